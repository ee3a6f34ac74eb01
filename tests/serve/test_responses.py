"""``/v1/responses`` through the official SDK: the tiny model for plain replies, a scripted engine
for function calls, reasoning items and their round trip back into the prompt."""

from __future__ import annotations

import json

EXEC_TOOL = {"type": "function", "name": "exec_command", "description": "Runs a shell command.",
             "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}, "required": ["cmd"]}}
CALL = ("<think>\nI should look first.\n</think>\n\n<tool_call>\n<function=exec_command>\n<parameter=cmd>\nls\n"
        "</parameter>\n</function>\n</tool_call>")


def test_string_input_and_its_stream(tiny):
    whole = tiny.responses.create(model="tiny", input="Say hi.", instructions="Be brief.", max_output_tokens=8,
                                  extra_body={"seed": 3})
    assert whole.object == "response" and whole.status in ("completed", "incomplete")
    assert whole.output[0].type == "message" and whole.usage.output_tokens <= 8
    assert whole.usage.total_tokens == whole.usage.input_tokens + whole.usage.output_tokens
    events = list(tiny.responses.create(model="tiny", input="Say hi.", instructions="Be brief.", max_output_tokens=8,
                                        stream=True, extra_body={"seed": 3}))
    kinds = [e.type for e in events]
    assert kinds[:4] == ["response.created", "response.in_progress", "response.output_item.added",
                         "response.content_part.added"]
    assert kinds[-1] == f"response.{whole.status}" and [e.sequence_number for e in events] == list(range(len(events)))
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == whole.output_text
    assert events[-1].response.output_text == whole.output_text


def test_function_call_round_trip(scripted, decode):
    with scripted([CALL, "Two files."]) as (client, engine, _):
        first = client.responses.create(model="scripted", input="What is here?", tools=[EXEC_TOOL])
        reasoning, call = first.output
        assert reasoning.type == "reasoning" and reasoning.content[0].text == "\nI should look first.\n"
        assert call.type == "function_call" and call.name == "exec_command" and json.loads(call.arguments) == {
            "cmd": "ls"}
        assert first.status == "completed" and first.usage.output_tokens_details.reasoning_tokens > 0
        history = [{"role": "user", "content": "What is here?"}, *[item.model_dump() for item in first.output],
                   {"type": "function_call_output", "call_id": call.call_id, "output": "a.txt\nb.txt"}]
        second = client.responses.create(model="scripted", input=history, tools=[EXEC_TOOL])
    assert second.output_text == "Two files."
    prompt = decode(engine.prompts[1])
    # the earlier turn comes back with its thinking, and the call in the template's Qwen3 XML
    assert "<|im_start|>assistant\n<think>\nI should look first.\n</think>\n\n" in prompt
    assert "<function=exec_command>\n<parameter=cmd>\nls\n</parameter>\n</function>\n</tool_call>" in prompt
    assert "<tool_response>\na.txt\nb.txt\n</tool_response>" in prompt and '"exec_command"' in prompt


def test_streamed_function_call(scripted):
    with scripted([CALL]) as (client, _, _):
        events = list(client.responses.create(model="scripted", input="What is here?", tools=[EXEC_TOOL],
                                              stream=True))
    kinds = [e.type for e in events]
    for kind in ("response.reasoning_text.delta", "response.function_call_arguments.delta",
                 "response.function_call_arguments.done", "response.output_item.done", "response.completed"):
        assert kind in kinds
    added = [e.item for e in events if e.type == "response.output_item.added"]
    assert [i.type for i in added] == ["reasoning", "function_call"] and added[1].arguments == ""
    done = next(e for e in events if e.type == "response.function_call_arguments.done")
    assert json.loads(done.arguments) == {"cmd": "ls"}
    assert events[-1].response.output[1].call_id == added[1].call_id


def test_codex_shaped_request(scripted, decode):
    """What Codex sends: developer messages as input_text parts, namespaced and hosted tools,
    hints such as store / include / reasoning / prompt_cache_key."""
    namespace = {"type": "namespace", "name": "agents", "description": "Sub-agents.", "tools": [
        {"type": "function", "name": "spawn_agent", "description": "Start one.", "strict": False,
         "parameters": {"type": "object", "properties": {"task": {"type": "string"}}}}]}
    spawn = "<tool_call>\n<function=spawn_agent>\n<parameter=task>\nfind bugs\n</parameter>\n</function>\n</tool_call>"
    body = {"input": [{"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "Rules."}]},
                      {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Go."}]}],
            "tools": [EXEC_TOOL, namespace, {"type": "web_search", "external_web_access": False}],
            "tool_choice": "auto", "parallel_tool_calls": True, "reasoning": {"summary": "auto"}, "store": False,
            "include": ["reasoning.encrypted_content"], "prompt_cache_key": "k"}
    with scripted([spawn]) as (client, engine, _):
        reply = client.responses.create(model="scripted", stream=False, extra_body={"client_metadata": {"a": "b"}},
                                        **body)
    prompt = decode(engine.prompts[0])
    assert "<|im_start|>system\n# Tools" in prompt and "Rules.<|im_end|>" in prompt and "web_search" not in prompt
    [call] = reply.output
    assert call.name == "spawn_agent" and call.model_dump()["namespace"] == "agents"
