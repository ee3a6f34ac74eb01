"""``/v1/chat/completions`` through the official openai SDK: the tiny model for sampling,
streaming, n, stop and logprobs; a scripted engine for tools and tool calls."""

from __future__ import annotations

import json

from tmax.harness.prompts import BASH_TOOL

HI = [{"role": "user", "content": "List the files."}]
CALL = ("I will look.\n<tool_call>\n<function=bash>\n<parameter=command>\nls -la\n</parameter>\n</function>\n"
        "</tool_call>")


def test_reply_and_its_stream_agree(tiny):
    reply = tiny.chat.completions.create(model="tiny", messages=HI, max_tokens=12, seed=7)
    choice = reply.choices[0]
    assert reply.object == "chat.completion" and choice.message.role == "assistant"
    assert choice.finish_reason in ("stop", "length") and 0 < reply.usage.completion_tokens <= 12
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    chunks = list(tiny.chat.completions.create(model="tiny", messages=HI, max_tokens=12, seed=7, stream=True,
                                               stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == choice.message.content
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == choice.finish_reason
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == reply.usage.completion_tokens


def test_content_parts_read_as_text(tiny):
    parts = [{"type": "text", "text": "List"}, {"type": "text", "text": "the files."}]
    as_parts = tiny.chat.completions.create(model="tiny", messages=[{"role": "user", "content": parts}], max_tokens=1)
    as_text = tiny.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "List\nthe files."}],
                                           max_tokens=1)
    assert as_parts.usage.prompt_tokens == as_text.usage.prompt_tokens


def test_n_choices(tiny):
    reply = tiny.chat.completions.create(model="tiny", messages=HI, max_tokens=8, n=3, seed=1)
    assert [c.index for c in reply.choices] == [0, 1, 2]
    assert len({c.message.content for c in reply.choices}) > 1  # independent samples
    streamed = list(tiny.chat.completions.create(model="tiny", messages=HI, max_tokens=4, n=2, stream=True))
    assert {c.choices[0].index for c in streamed if c.choices} == {0, 1}


def test_stop_strings_end_the_reply(tiny):
    full = tiny.chat.completions.create(model="tiny", messages=HI, max_tokens=16, seed=11).choices[0].message.content
    stop = full[6:9]
    assert len(stop) == 3
    cut = tiny.chat.completions.create(model="tiny", messages=HI, max_tokens=16, seed=11, stop=[stop, "\x00never"])
    assert cut.choices[0].message.content == full[:full.index(stop)]
    assert cut.choices[0].finish_reason == "stop"


def test_logprobs_and_top_logprobs(tiny):
    reply = tiny.chat.completions.create(model="tiny", messages=HI, max_tokens=6, seed=3, logprobs=True,
                                         top_logprobs=4)
    entries = reply.choices[0].logprobs.content
    assert len(entries) == reply.usage.completion_tokens
    for entry in entries:
        tops = [t.logprob for t in entry.top_logprobs]
        assert len(tops) == 4 and tops == sorted(tops, reverse=True) and entry.logprob <= tops[0] + 1e-5
        same = [t.logprob for t in entry.top_logprobs if t.token == entry.token]
        assert all(abs(lp - entry.logprob) < 1e-4 for lp in same)  # engine and scorer agree
    chunks = list(tiny.chat.completions.create(model="tiny", messages=HI, max_tokens=6, seed=3, logprobs=True,
                                               top_logprobs=2, stream=True))
    streamed = [e.logprob for c in chunks if c.choices and c.choices[0].logprobs for e in c.choices[0].logprobs.content]
    assert streamed == [e.logprob for e in entries]


def test_tools_go_into_the_prompt_and_calls_come_back(scripted, decode):
    with scripted([CALL]) as (client, engine, _):
        reply = client.chat.completions.create(model="scripted", messages=HI, tools=[BASH_TOOL])
    prompt = decode(engine.prompts[0])
    assert "# Tools" in prompt and '"name": "bash"' in prompt and "persistent bash shell" in prompt
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content == "I will look."
    [call] = choice.message.tool_calls
    assert call.type == "function" and call.function.name == "bash" and call.id.startswith("call_")
    assert json.loads(call.function.arguments) == {"command": "ls -la"}


def test_earlier_tool_calls_render_in_the_template_format(scripted, decode):
    history = HI + [{"role": "assistant", "content": "I will look.", "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "bash", "arguments": '{"command": "ls -la"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "total 0"}]
    with scripted(["Nothing here."]) as (client, engine, _):
        reply = client.chat.completions.create(model="scripted", messages=history, tools=[BASH_TOOL])
    prompt = decode(engine.prompts[0])
    assert "<function=bash>\n<parameter=command>\nls -la\n</parameter>\n</function>" in prompt
    assert '"ls -la"' not in prompt and "<tool_response>\ntotal 0\n</tool_response>" in prompt
    assert reply.choices[0].message.content == "Nothing here." and reply.choices[0].finish_reason == "stop"


def test_streamed_tool_calls_and_hermes_json(scripted):
    hermes = 'ok <tool_call>\n{"name": "bash", "arguments": {"command": "pwd"}}\n</tool_call>'
    with scripted([CALL, hermes]) as (client, _, _):
        chunks = list(client.chat.completions.create(model="scripted", messages=HI, tools=[BASH_TOOL], stream=True))
        other = client.chat.completions.create(model="scripted", messages=HI, tools=[BASH_TOOL])
    calls = [tc for c in chunks for tc in (c.choices[0].delta.tool_calls or [])]
    assert [(c.index, c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        (0, "bash", {"command": "ls -la"})]
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "I will look."
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    assert json.loads(other.choices[0].message.tool_calls[0].function.arguments) == {"command": "pwd"}


def test_without_tools_the_text_is_left_alone(scripted, decode):
    with scripted([CALL, CALL]) as (client, engine, _):
        plain = client.chat.completions.create(model="scripted", messages=HI)
        none = client.chat.completions.create(model="scripted", messages=HI, tools=[BASH_TOOL], tool_choice="none")
    assert plain.choices[0].message.content == CALL and not plain.choices[0].message.tool_calls
    assert none.choices[0].message.content == CALL and "# Tools" not in decode(engine.prompts[1])


def test_xml_arguments_get_their_schema_types(scripted):
    tool = {"type": "function", "function": {"name": "run", "parameters": {"type": "object", "properties": {
        "cmd": {"type": "string"}, "timeout": {"type": "integer"}, "login": {"type": "boolean"}}}}}
    call = ("<tool_call>\n<function=run>\n<parameter=cmd>\n42\n</parameter>\n<parameter=timeout>\n30\n</parameter>\n"
            "<parameter=login>\nfalse\n</parameter>\n</function>\n</tool_call>")
    with scripted([call]) as (client, _, _):
        reply = client.chat.completions.create(model="scripted", messages=HI, tools=[tool])
    arguments = json.loads(reply.choices[0].message.tool_calls[0].function.arguments)
    assert arguments == {"cmd": "42", "timeout": 30, "login": False}
