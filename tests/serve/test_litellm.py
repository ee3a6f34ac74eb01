"""litellm (what mini-swe-agent speaks through) against tmax serve on loopback: plain and
streamed chat completions, content given as a list of parts, tool calls and tool results.
litellm reaches the server as an ``openai/<name>`` model with ``api_base``, as
``--harness mini-swe-agent`` configures it."""

from __future__ import annotations

import json
import os

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # litellm's pydantic models warn on import
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # offline: no fetch of the price list
litellm = pytest.importorskip("litellm")

BASH_TOOL = {"type": "function", "function": {
    "name": "bash", "description": "Execute a bash command",
    "parameters": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}}}
CALL = "Listing.\n<tool_call>\n<function=bash>\n<parameter=command>\nls -la /app\n</parameter>\n</function>\n</tool_call>"


def _complete(server, messages, **kwargs):
    return litellm.completion(model="openai/scripted", api_base=server.url, api_key="unused", messages=messages,
                              num_retries=0, **kwargs)


def test_plain_reply_and_content_parts(scripted, decode):
    with scripted(["Hello there."]) as (_, engine, server):
        reply = _complete(server, [{"role": "system", "content": "Be brief."},
                                   {"role": "user", "content": [{"type": "text", "text": "Say "},
                                                                {"type": "text", "text": "hello."}]}])
    assert reply.choices[0].message.content == "Hello there."
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.prompt_tokens == len(engine.prompts[0]) and reply.usage.completion_tokens > 0
    prompt = decode(engine.prompts[0])
    assert "Be brief." in prompt and "Say \nhello." in prompt  # text parts joined by newlines, as vLLM does


def test_tool_call_and_tool_result_round_trip(scripted, decode):
    with scripted([CALL, "It has 3 files."]) as (_, engine, server):
        first = _complete(server, [{"role": "user", "content": "List /app."}], tools=[BASH_TOOL])
        message = first.choices[0].message
        [call] = message.tool_calls
        assert first.choices[0].finish_reason == "tool_calls"
        assert call.function.name == "bash" and json.loads(call.function.arguments) == {"command": "ls -la /app"}
        second = _complete(server, [{"role": "user", "content": "List /app."}, message.model_dump(),
                                    {"role": "tool", "tool_call_id": call.id, "content": "a\nb\nc"}],
                           tools=[BASH_TOOL])
    assert second.choices[0].message.content == "It has 3 files."
    prompt = decode(engine.prompts[1])
    assert '"name": "bash"' in decode(engine.prompts[0])  # the tool schema reached the chat template
    assert "<parameter=command>\nls -la /app\n</parameter>" in prompt and "a\nb\nc" in prompt.rsplit("<tool_response>", 1)[1]


def test_streaming_text_and_tool_calls(scripted):
    with scripted(["Streamed words here.", CALL]) as (_, _, server):
        chunks = list(_complete(server, [{"role": "user", "content": "Talk."}], stream=True))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == "Streamed words here."
        assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
        stream = _complete(server, [{"role": "user", "content": "List."}], tools=[BASH_TOOL], stream=True)
        rebuilt = litellm.stream_chunk_builder(list(stream))
    [call] = rebuilt.choices[0].message.tool_calls
    assert call.function.name == "bash" and json.loads(call.function.arguments) == {"command": "ls -la /app"}
    assert rebuilt.choices[0].message.content.strip() == "Listing."
