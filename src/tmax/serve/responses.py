"""``POST /v1/responses``: OpenAI's Responses API, enough of it for Codex CLI.

Requests: ``input`` as a string or a list of items (``message`` with any role, ``reasoning``,
``function_call``, ``function_call_output``, ``custom_tool_call`` and its output),
``instructions``, ``tools`` (``function``; the functions inside a ``namespace``; ``custom``
tools as a function of one string ``input``), ``tool_choice`` auto/none, ``temperature``,
``top_p``, ``max_output_tokens``, ``seed``, ``stream``. Items become one chat conversation (an
assistant turn gathers its reasoning, text and calls) rendered by the model's chat template.

Hosted tools (``web_search``, ``file_search``, ...) are accepted and not offered to the model:
this server runs no tools of its own. Hints that change nothing here (``store``, ``include``,
``reasoning``, ``prompt_cache_key``, ``metadata``, ...) are accepted; nothing is stored, so
``previous_response_id`` is refused, like every field not listed.

Output: a ``reasoning`` item (the ``<think>`` part, as ``reasoning_text`` content that comes
back verbatim in the next request), a ``message``, then one ``function_call`` (or
``custom_tool_call``) per call the model wrote. A reply cut by the token limit is
``incomplete`` (Codex treats that as a failed turn). Streaming sends ``response.created``,
``response.in_progress``, per item ``response.output_item.added``, its deltas
(``response.output_text.delta``, ``response.reasoning_text.delta``,
``response.function_call_arguments.delta``), their ``.done`` events and
``response.output_item.done``, then ``response.completed`` (or ``response.incomplete``, or
``response.failed`` when the engine fails).
"""

from __future__ import annotations

import json
import time
from typing import Any, Literal

import anyio
from pydantic import BaseModel, ConfigDict, Field

from tmax.serve.chat import StreamOptions, TextFormat, check_model
from tmax.serve.errors import RequestError, parse
from tmax.serve.model import Choice, ServedModel
from tmax.serve.render import content_text, new_id, normalize_messages, prompt_ids, split_reply
from tmax.serve.stream import response_events

HOSTED_TOOLS = {"web_search", "web_search_preview", "file_search", "code_interpreter", "image_generation",
                "computer_use_preview", "local_shell", "mcp", "tool_search"}


class TextOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: TextFormat | None = None
    verbosity: str | None = Field(None, description="Accepted and ignored.")


class ResponsesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    input: str | list[dict[str, Any]] = Field(description="A user message, or a list of input items.")
    instructions: str | None = Field(None, description="A system message in front of the input.")
    tools: list[dict[str, Any]] | None = None
    tool_choice: Literal["auto", "none"] | None = None
    parallel_tool_calls: bool | None = Field(None, description="Accepted; every call the model writes is returned.")
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    max_output_tokens: int | None = Field(None, gt=0)
    seed: int | None = None
    text: TextOptions | None = None
    truncation: Literal["disabled"] | None = None
    background: Literal[False] | None = None
    reasoning: dict | None = Field(None, description="Accepted; the model thinks the way it was trained to.")
    include: list[str] | None = Field(None, description="Accepted; reasoning comes back as plain text.")
    store: bool | None = Field(None, description="Accepted; nothing is stored.")
    prompt_cache_key: str | None = None
    client_metadata: dict | None = None
    metadata: dict | None = None
    user: str | None = None
    safety_identifier: str | None = None
    service_tier: str | None = None


def function_tools(tools: list[dict]) -> tuple[list[dict], dict[str, tuple[str, str | None]]]:
    """Chat-style tool schemas for the template, and per name its kind (function or custom)
    and namespace."""
    schemas, kinds = [], {}

    def add(tool: dict, where: str, namespace: str | None = None) -> None:
        kind = tool.get("type")
        if kind in HOSTED_TOOLS and namespace is None:
            return
        if kind not in ("function", "custom") or not tool.get("name"):
            raise RequestError(f"`{where}.type` {kind!r} is not supported (function, custom, namespace, or a hosted "
                               f"tool, which is not offered: {', '.join(sorted(HOSTED_TOOLS))})", param=f"{where}.type")
        function = {"name": tool["name"], "description": tool.get("description") or ""}
        if kind == "custom":
            function["parameters"] = {"type": "object", "required": ["input"],
                                      "properties": {"input": {"type": "string", "description": "The tool's input."}}}
        elif tool.get("parameters") is not None:
            function["parameters"] = tool["parameters"]
        schemas.append({"type": "function", "function": function})
        kinds.setdefault(tool["name"], (kind, namespace))

    for i, tool in enumerate(tools):
        if isinstance(tool, dict) and tool.get("type") == "namespace":
            for j, inner in enumerate(tool.get("tools") or []):
                add(inner, f"tools[{i}].tools[{j}]", tool.get("name"))
        else:
            add(tool if isinstance(tool, dict) else {}, f"tools[{i}]")
    return schemas, kinds


def _item_text(item: dict, where: str) -> str:
    if item.get("type") == "reasoning":
        parts = item.get("content") or item.get("summary") or []
        return content_text(parts, f"{where}.content")
    return content_text(item.get("content"), f"{where}.content")


def input_messages(req: ResponsesRequest) -> list[dict]:
    """Input items as chat messages; one assistant turn gathers its reasoning, text and calls."""
    items = [{"type": "message", "role": "user", "content": req.input}] if isinstance(req.input, str) else req.input
    messages: list[dict] = [{"role": "system", "content": req.instructions}] if req.instructions else []
    turn: dict | None = None
    for i, item in enumerate(items):
        kind, where = item.get("type") or ("message" if "role" in item else None), f"input[{i}]"
        if kind in ("reasoning", "function_call", "custom_tool_call") or (kind == "message"
                                                                          and item.get("role") == "assistant"):
            if turn is None:
                turn = {"role": "assistant", "content": "", "tool_calls": []}
                messages.append(turn)
            if kind == "reasoning":
                turn["reasoning_content"] = turn.get("reasoning_content", "") + _item_text(item, where)
            elif kind == "message":
                turn["content"] += ("\n" if turn["content"] else "") + _item_text(item, where)
            else:
                arguments = item.get("arguments") if kind == "function_call" else {"input": item.get("input", "")}
                turn["tool_calls"].append({"id": item.get("call_id"), "type": "function",
                                           "function": {"name": item.get("name"), "arguments": arguments}})
            continue
        turn = None
        if kind == "message":
            messages.append({"role": item.get("role"), "content": item.get("content")})
        elif kind in ("function_call_output", "custom_tool_call_output"):
            output = item.get("output")
            messages.append({"role": "tool", "tool_call_id": item.get("call_id"),
                             "content": output if isinstance(output, str) else content_text(output, f"{where}.output")})
        else:
            raise RequestError(f"`{where}.type` {kind!r} is not supported (message, reasoning, function_call, "
                               "function_call_output, custom_tool_call, custom_tool_call_output)",
                               param=f"{where}.type")
    return normalize_messages(messages, where="input")


def output_items(choice: Choice, kinds: dict, tools: list[dict]) -> list[dict]:
    reply = split_reply(choice.text, tools=tools, thinking=True)
    items: list[dict] = []
    if reply.reasoning is not None:
        items.append({"type": "reasoning", "id": new_id("rs"), "summary": [],
                      "content": [{"type": "reasoning_text", "text": reply.reasoning}]})
    if reply.content.strip() or not reply.calls:
        items.append({"type": "message", "id": new_id("msg"), "status": "completed", "role": "assistant",
                      "content": [{"type": "output_text", "text": reply.content, "annotations": [], "logprobs": []}]})
    for call in reply.calls:
        kind, namespace = kinds.get(call.name, ("function", None))
        if kind == "custom":
            items.append({"type": "custom_tool_call", "id": new_id("ctc"), "call_id": new_id("call"),
                          "name": call.name, "input": str(call.arguments.get("input", "")), "status": "completed"})
            continue
        item = {"type": "function_call", "id": new_id("fc"), "call_id": new_id("call"), "name": call.name,
                "arguments": json.dumps(call.arguments), "status": "completed"}
        items.append({**item, "namespace": namespace} if namespace else item)
    return items


def _usage(prompt: list[int], choice: Choice) -> dict:
    end = choice.text.find("</think>")
    reasoning, seen = 0, 0
    for piece in choice.pieces if end >= 0 else []:
        if seen >= end + len("</think>"):
            break
        seen, reasoning = seen + len(piece), reasoning + 1
    return {"input_tokens": len(prompt), "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": len(choice.ids), "output_tokens_details": {"reasoning_tokens": reasoning},
            "total_tokens": len(prompt) + len(choice.ids)}


def envelope(model: ServedModel, req: ResponsesRequest, rid: str, created: int) -> dict:
    """The response object without its outcome (status, output, usage)."""
    return {"id": rid, "object": "response", "created_at": created, "status": "in_progress", "error": None,
            "incomplete_details": None, "instructions": req.instructions, "max_output_tokens": req.max_output_tokens,
            "model": model.name, "output": [], "parallel_tool_calls": req.parallel_tool_calls is not False,
            "previous_response_id": None, "reasoning": {"effort": None, "summary": None}, "store": False,
            "temperature": 1.0 if req.temperature is None else req.temperature, "text": {"format": {"type": "text"}},
            "tool_choice": req.tool_choice or "auto", "tools": req.tools or [],
            "top_p": 1.0 if req.top_p is None else req.top_p, "truncation": "disabled", "usage": None,
            "metadata": req.metadata or {}}


def finish(response: dict, choice: Choice, prompt: list[int], items: list[dict]) -> dict:
    cut = choice.finish_reason == "length"
    return {**response, "status": "incomplete" if cut else "completed", "output": items,
            "incomplete_details": {"reason": "max_output_tokens"} if cut else None, "usage": _usage(prompt, choice)}


async def responses(model: ServedModel, body: dict):
    req = parse(ResponsesRequest, body)
    check_model(model, req.model)
    schemas, kinds = function_tools(req.tools or []) if req.tool_choice != "none" else ([], {})
    prompt = prompt_ids(model.tokenizer, input_messages(req), schemas)
    params = model.params(len(prompt), temperature=req.temperature, top_p=req.top_p, seed=req.seed,
                          max_tokens=req.max_output_tokens, param="input")

    def run() -> Choice:
        return model.generate(prompt, params)[0]

    response = envelope(model, req, new_id("resp"), int(time.time()))
    if req.stream:
        return response_events(response, run, lambda c: finish(response, c, prompt,
                                                                 output_items(c, kinds, schemas)))
    choice = await anyio.to_thread.run_sync(run)
    return finish(response, choice, prompt, output_items(choice, kinds, schemas))
