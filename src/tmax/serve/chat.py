"""``POST /v1/chat/completions``: messages in, assistant messages out (JSON or SSE chunks).

The request's ``tools`` go into the prompt through the model's chat template; tool calls the
model writes (Qwen3 XML or Hermes JSON) come back as ``tool_calls`` with
``finish_reason: "tool_calls"``, the text before the first call as ``content``. Earlier
assistant ``tool_calls`` are rendered by the template in its own format. Supported besides:
``n``, ``stop``, ``seed``, ``logprobs`` / ``top_logprobs``, ``stream`` with
``stream_options.include_usage``, and vLLM's ``return_token_ids`` (sampled ids per choice,
``prompt_token_ids`` beside them). ``frequency_penalty`` / ``presence_penalty`` must be 0 and
``response_format`` plain text; any other field is refused with a 400 that names it.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import anyio
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from tmax.serve.errors import RequestError, parse
from tmax.serve.model import Choice, ServedModel
from tmax.serve.render import new_id, normalize_messages, prompt_ids, split_reply


def _only_zero(value: float | None) -> float | None:
    if value not in (None, 0):
        raise ValueError("only 0 is supported")
    return value


Zero = Annotated[float | None, AfterValidator(_only_zero)]


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    include_usage: bool = Field(False, description="Send a last chunk with the token usage.")
    include_obfuscation: bool | None = Field(None, description="Accepted; chunks are not padded.")


class FunctionDef(BaseModel):
    model_config = ConfigDict(extra="allow")  # description, parameters, strict: handed to the template
    name: str


class ChatTool(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["function"]
    function: FunctionDef


class TextFormat(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["text"]


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(None, description="The served model's name.")
    messages: list[dict[str, Any]] = Field(min_length=1, description="The conversation.")
    stream: bool = Field(False, description="Answer as server-sent events.")
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    max_tokens: int | None = Field(None, gt=0)
    max_completion_tokens: int | None = Field(None, gt=0, description="Wins over max_tokens.")
    n: int = Field(1, ge=1, le=64, description="Choices per request.")
    stop: str | list[str] | None = Field(None, description="Strings that end a reply (left out of it).")
    seed: int | None = None
    logprobs: bool = Field(False, description="Logprob of each sampled token (after temperature).")
    top_logprobs: int | None = Field(None, ge=0, le=20, description="Most likely tokens per position.")
    tools: list[ChatTool] | None = None
    tool_choice: Literal["auto", "none"] | None = Field(None, description="required / named: not supported.")
    parallel_tool_calls: bool | None = Field(None, description="Accepted; every call the model writes is returned.")
    frequency_penalty: Zero = None
    presence_penalty: Zero = None
    response_format: TextFormat | None = None
    user: str | None = Field(None, description="Accepted and ignored.")
    metadata: dict | None = Field(None, description="Accepted and ignored.")
    store: bool | None = Field(None, description="Accepted; nothing is stored.")
    return_token_ids: bool = Field(False, description="vLLM: sampled ids per choice, prompt ids beside them.")


def stops(stop: str | list[str] | None) -> list[str]:
    return [stop] if isinstance(stop, str) else list(stop or [])


def check_model(model: ServedModel, name: str | None) -> None:
    if name not in (None, model.name):
        raise RequestError(f"The model `{name}` does not exist; this server has `{model.name}`", status=404,
                           param="model", code="model_not_found")


def token_logprobs(model: ServedModel, choice: Choice, start: int = 0, end: int | None = None) -> list[dict]:
    """OpenAI's per-token logprob entries for ``choice.ids[start:end]``."""
    def entry(token_id: int, logprob: float) -> dict:
        text = model.decode([token_id])
        return {"token": text, "logprob": logprob, "bytes": list(text.encode())}

    out = []
    for i in range(start, len(choice.ids) if end is None else end):
        item = entry(choice.ids[i], choice.logprobs[i])
        item["top_logprobs"] = [entry(t, lp) for t, lp in choice.top[i]] if choice.top else []
        out.append(item)
    return out


def _prepare(model: ServedModel, req: ChatRequest):
    check_model(model, req.model)
    if req.top_logprobs and not req.logprobs:
        raise RequestError("`top_logprobs` needs `logprobs: true`", param="top_logprobs")
    tools = [t.model_dump(exclude_none=True) for t in req.tools or []] if req.tool_choice != "none" else []
    prompt = prompt_ids(model.tokenizer, normalize_messages(req.messages), tools)
    params = model.params(len(prompt), temperature=req.temperature, top_p=req.top_p, seed=req.seed,
                          max_tokens=req.max_completion_tokens or req.max_tokens, param="messages")
    top_k = (req.top_logprobs or 0) if req.logprobs else 0
    if top_k:
        model.require_scorer("top_logprobs")  # before a stream opens, so the answer is a 400
    return prompt, params, top_k, tools


def _message(model: ServedModel, choice: Choice, tools: list[dict]) -> tuple[dict, str]:
    reply = split_reply(choice.text, tools=tools)
    message: dict = {"role": "assistant", "content": reply.content}
    if reply.calls:
        message["tool_calls"] = [{"id": new_id("call"), "type": "function",
                                  "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
                                 for c in reply.calls]
    return message, "tool_calls" if reply.calls else choice.finish_reason


def _usage(prompt: list[int], choices: list[Choice]) -> dict:
    completion = sum(len(c.ids) for c in choices)
    return {"prompt_tokens": len(prompt), "completion_tokens": completion, "total_tokens": len(prompt) + completion}


async def chat_completions(model: ServedModel, body: dict) -> dict | AsyncIterator[dict]:
    req = parse(ChatRequest, body)
    prompt, params, top_k, tools = _prepare(model, req)

    def run() -> list[Choice]:
        return model.generate(prompt, params, n=req.n, stop=stops(req.stop), top_k=top_k)

    if req.stream:
        return _stream(model, req, prompt, run, tools)
    choices = await anyio.to_thread.run_sync(run)
    out = []
    for i, choice in enumerate(choices):
        message, finish = _message(model, choice, tools)
        item = {"index": i, "message": message, "finish_reason": finish,
                "logprobs": {"content": token_logprobs(model, choice)} if req.logprobs else None}
        if req.return_token_ids:
            item["token_ids"] = choice.ids
        out.append(item)
    response = {"id": new_id("chatcmpl"), "object": "chat.completion", "created": int(time.time()),
                "model": model.name, "choices": out, "usage": _usage(prompt, choices)}
    if req.return_token_ids:
        response["prompt_token_ids"] = prompt
    return response


def _chunks(model: ServedModel, req: ChatRequest, index: int, choice: Choice, tools: list[dict]):
    """The chunks of one choice after the opening one: its content token by token (with each
    token's logprobs), its tool calls whole, then the finish reason."""
    message, finish = _message(model, choice, tools)
    shown, used = message["content"], 0
    for i, piece in enumerate(choice.pieces):
        piece = piece[:max(0, len(shown) - used)]
        used += len(piece)
        if piece or req.logprobs:
            logprobs = {"content": token_logprobs(model, choice, i, i + 1)} if req.logprobs else None
            yield {"index": index, "delta": {"content": piece}, "logprobs": logprobs, "finish_reason": None}
    if message.get("tool_calls"):
        calls = [{"index": j, **call} for j, call in enumerate(message["tool_calls"])]
        yield {"index": index, "delta": {"tool_calls": calls}, "logprobs": None, "finish_reason": None}
    last = {"index": index, "delta": {}, "logprobs": None, "finish_reason": finish}
    if req.return_token_ids:
        last["token_ids"] = choice.ids
    yield last


async def _stream(model: ServedModel, req: ChatRequest, prompt: list[int], run, tools: list[dict]):
    head = {"id": new_id("chatcmpl"), "object": "chat.completion.chunk", "created": int(time.time()),
            "model": model.name}

    def event(choices: list[dict], **extra) -> dict:
        return {"data": json.dumps({**head, "choices": choices, **extra})}

    yield event([{"index": i, "delta": {"role": "assistant", "content": ""}, "logprobs": None, "finish_reason": None}
                 for i in range(req.n)])
    try:
        choices = await anyio.to_thread.run_sync(run)
    except Exception as exc:  # the stream is open: report the failure in it
        yield {"data": json.dumps({"error": {"message": f"{type(exc).__name__}: {exc}", "type": "server_error"}})}
        yield {"data": "[DONE]"}
        return
    for i, choice in enumerate(choices):
        for chunk in _chunks(model, req, i, choice, tools):
            yield event([chunk])
    if req.stream_options and req.stream_options.include_usage:
        yield event([], usage=_usage(prompt, choices))
    yield {"data": "[DONE]"}
