"""``POST /v1/completions``: raw prompts (text or token ids) continued, JSON or SSE chunks.

This is the route of tmax's token mode (``engines/openai.py``): the prompt as token ids, and
per choice the sampled ``token_ids``, ``prompt_token_ids`` (with vLLM's ``return_token_ids``)
and ``logprobs.token_logprobs``, the engine's logprob of each sampled token after temperature.

A prompt is a string, a list of strings, a list of token ids or a list of those; ``n`` choices
each (indexed prompt by prompt). ``logprobs: N`` fills ``tokens``, ``token_logprobs`` and
``text_offset``; ``top_logprobs`` (the sampled token and the N most likely) needs a scorer
(the hf engine) and is null without one, where N > 1 is refused. ``echo`` puts the prompt in
front of the text (and, with logprobs, its tokens, scored); ``max_tokens: 0`` with ``echo``
scores a prompt without sampling. ``skip_special_tokens`` (default true) and
``return_tokens_as_token_ids`` work as in vLLM. The default ``max_tokens`` is 16, as in OpenAI.
"""

from __future__ import annotations

import json
import time
from typing import Literal

import anyio
from pydantic import BaseModel, ConfigDict, Field

from tmax.engines.base import SamplingParams
from tmax.serve.chat import StreamOptions, Zero, check_model, stops
from tmax.serve.errors import RequestError, parse
from tmax.serve.model import Choice, ServedModel
from tmax.serve.render import new_id

Prompt = str | list[str] | list[int] | list[list[int]]


class CompletionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    prompt: Prompt = Field(description="Text, texts, token ids, or lists of token ids.")
    max_tokens: int = Field(16, ge=0, description="New tokens per choice; 0 only with echo (prompt scoring).")
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    n: int = Field(1, ge=1, le=64)
    stop: str | list[str] | None = None
    seed: int | None = None
    logprobs: int | None = Field(None, ge=0, le=20, description="Logprobs of sampled tokens, N alternatives.")
    echo: bool = Field(False, description="Prepend the prompt to the text (and its logprobs).")
    stream: bool = False
    stream_options: StreamOptions | None = None
    frequency_penalty: Zero = None
    presence_penalty: Zero = None
    best_of: Literal[1] | None = None
    user: str | None = Field(None, description="Accepted and ignored.")
    return_token_ids: bool = Field(False, description="vLLM: token_ids and prompt_token_ids per choice.")
    return_tokens_as_token_ids: bool = Field(False, description="vLLM: logprob tokens as 'token_id:N'.")
    skip_special_tokens: bool = Field(True, description="vLLM: leave special tokens out of the text.")


def _prompts(model: ServedModel, prompt: Prompt) -> list[tuple[list[int], str | None]]:
    """Token ids of each prompt, and its text when it was given as text."""
    if isinstance(prompt, str):
        prompt = [prompt]
    if prompt and all(isinstance(t, int) for t in prompt):
        prompt = [prompt]
    if not prompt:
        raise RequestError("`prompt` is empty", param="prompt")
    out = []
    for p in prompt:
        ids = model.encode(p) if isinstance(p, str) else list(p)
        if not ids:
            raise RequestError("`prompt` has an empty entry", param="prompt")
        if any(not 0 <= t < len(model.tokenizer) for t in ids):
            raise RequestError(f"`prompt` has a token id outside the vocabulary (0..{len(model.tokenizer) - 1})",
                               param="prompt")
        out.append((ids, p if isinstance(p, str) else None))
    return out


class _Shown:
    """How tokens appear in logprobs: their text, or 'token_id:N' (return_tokens_as_token_ids)."""

    def __init__(self, model: ServedModel, req: CompletionRequest):
        self.model, self.as_ids, self.skip = model, req.return_tokens_as_token_ids, req.skip_special_tokens

    def __call__(self, token_id: int) -> str:
        return f"token_id:{token_id}" if self.as_ids else self.model.decode([token_id], skip_special=self.skip)

    def top(self, sampled: int, logprob: float, alternatives) -> dict | None:
        if alternatives is None:
            return None
        return {self(sampled): logprob, **{self(t): lp for t, lp in alternatives}}


def _logprobs(shown: _Shown, ids: list[int], logprobs: list, tops: list | None, offset: int,
              pieces: list[str]) -> dict:
    offsets = []
    for piece in pieces:
        offsets.append(offset)
        offset += len(piece)
    top = None if tops is None else [shown.top(t, lp, alt) for t, lp, alt in zip(ids, logprobs, tops)]
    return {"tokens": [shown(t) for t in ids], "token_logprobs": list(logprobs), "top_logprobs": top,
            "text_offset": offsets}


def _merge(a: dict | None, b: dict) -> dict:
    if a is None:
        return b
    top = None if a["top_logprobs"] is None or b["top_logprobs"] is None else a["top_logprobs"] + b["top_logprobs"]
    return {"tokens": a["tokens"] + b["tokens"], "token_logprobs": a["token_logprobs"] + b["token_logprobs"],
            "top_logprobs": top, "text_offset": a["text_offset"] + b["text_offset"]}


def _choice(model: ServedModel, req: CompletionRequest, index: int, ids: list[int], prompt_text: str | None,
            choice: Choice | None, top_k: int) -> dict:
    shown, text, logprobs = _Shown(model, req), "", None
    if req.echo:
        text = prompt_text if prompt_text is not None else model.decode(ids, skip_special=req.skip_special_tokens)
        if req.logprobs is not None:
            temperature = 1.0 if req.temperature is None else req.temperature
            lps, tops = model.prompt_logprobs(ids, top_k, temperature)
            pieces = [model.decode([t], skip_special=req.skip_special_tokens) for t in ids]
            logprobs = _logprobs(shown, ids, lps, tops if top_k else None, 0, pieces)
    if choice is not None:
        if req.logprobs is not None:
            more = _logprobs(shown, choice.ids, choice.logprobs, choice.top, len(text), choice.pieces)
            logprobs = _merge(logprobs, more)
        text += choice.text
    out = {"index": index, "text": text, "logprobs": logprobs,
           "finish_reason": choice.finish_reason if choice else "length"}
    if req.return_token_ids:
        out["token_ids"], out["prompt_token_ids"] = (choice.ids if choice else []), ids
    return out


def _check(model: ServedModel, req: CompletionRequest) -> int:
    check_model(model, req.model)
    top_k = req.logprobs or 0
    if top_k > 1 and model.scorer is None:
        model.require_scorer("logprobs")
    if req.max_tokens == 0 and not req.echo:
        raise RequestError("`max_tokens` 0 is only useful with `echo` (scoring the prompt)", param="max_tokens")
    if req.echo and req.logprobs is not None:
        model.require_scorer("echo")
    if req.echo and req.stream and req.logprobs is not None:
        raise RequestError("`echo` with `logprobs` is not supported when streaming", param="echo")
    return top_k if model.scorer else 0


async def _generate(model: ServedModel, req: CompletionRequest, prompts, top_k: int) -> list[list[Choice | None]]:
    results: list = [None] * len(prompts)

    async def one(i: int, ids: list[int]) -> None:
        if req.max_tokens == 0:
            results[i] = [None] * req.n
            return
        params: SamplingParams = model.params(len(ids), temperature=req.temperature, top_p=req.top_p,
                                              max_tokens=req.max_tokens, seed=req.seed, param="prompt")
        results[i] = await anyio.to_thread.run_sync(lambda: model.generate(
            ids, params, n=req.n, stop=stops(req.stop), top_k=top_k, skip_special=req.skip_special_tokens))

    async with anyio.create_task_group() as group:
        for i, (ids, _) in enumerate(prompts):
            group.start_soon(one, i, ids)
    return results


async def completions(model: ServedModel, body: dict):
    req = parse(CompletionRequest, body)
    top_k = _check(model, req)
    prompts = _prompts(model, req.prompt)
    for ids, _ in prompts:  # a prompt too long is a 400 before anything runs
        model.check_room(len(ids), "prompt")
    if req.stream:
        return _stream(model, req, prompts, top_k)
    results = await _generate(model, req, prompts, top_k)
    choices, completion_tokens = [], 0
    for p, ((ids, text), group) in enumerate(zip(prompts, results)):
        for j, choice in enumerate(group):
            choices.append(_choice(model, req, p * req.n + j, ids, text, choice, top_k))
            completion_tokens += len(choice.ids) if choice else 0
    prompt_tokens = sum(len(ids) for ids, _ in prompts)
    return {"id": new_id("cmpl"), "object": "text_completion", "created": int(time.time()), "model": model.name,
            "choices": choices, "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                                          "total_tokens": prompt_tokens + completion_tokens}}


def _token_chunks(model, req, index: int, choice: Choice, offset: int):
    shown = _Shown(model, req)
    for i, piece in enumerate(choice.pieces):
        item = {"index": index, "text": piece, "logprobs": None, "finish_reason": None}
        if req.logprobs is not None:
            tops = [choice.top[i]] if choice.top else None
            item["logprobs"] = _logprobs(shown, choice.ids[i:i + 1], choice.logprobs[i:i + 1], tops, offset, [piece])
        if req.return_token_ids:
            item["token_ids"] = choice.ids[i:i + 1]
        offset += len(piece)
        yield item
    yield {"index": index, "text": "", "logprobs": None, "finish_reason": choice.finish_reason}


async def _stream(model: ServedModel, req: CompletionRequest, prompts, top_k: int):
    head = {"id": new_id("cmpl"), "object": "text_completion", "created": int(time.time()), "model": model.name}

    def event(choices: list[dict], **extra) -> dict:
        return {"data": json.dumps({**head, "choices": choices, **extra})}

    try:
        results = await _generate(model, req, prompts, top_k)
    except Exception as exc:  # the stream is open: report the failure in it
        yield {"data": json.dumps({"error": {"message": f"{type(exc).__name__}: {exc}", "type": "server_error"}})}
        yield {"data": "[DONE]"}
        return
    completion_tokens = 0
    for p, ((ids, text), group) in enumerate(zip(prompts, results)):
        for j, choice in enumerate(group):
            index, offset = p * req.n + j, 0
            if req.echo:
                shown = text if text is not None else model.decode(ids, skip_special=req.skip_special_tokens)
                yield event([{"index": index, "text": shown, "logprobs": None, "finish_reason": None}])
                offset = len(shown)
            if choice is not None:
                completion_tokens += len(choice.ids)
                for item in _token_chunks(model, req, index, choice, offset):
                    yield event([item])
    if req.stream_options and req.stream_options.include_usage:
        prompt_tokens = sum(len(ids) for ids, _ in prompts)
        yield event([], usage={"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                               "total_tokens": prompt_tokens + completion_tokens})
    yield {"data": "[DONE]"}
