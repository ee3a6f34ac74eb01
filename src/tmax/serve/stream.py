"""The Responses API's event stream for one response.

``response_events`` yields server-sent events (``{"event": type, "data": json}``) in the
order OpenAI sends them and Codex reads them: ``response.created`` and
``response.in_progress`` at once, then, when the reply is sampled, per output item
``response.output_item.added``, its deltas (token by token for text), the matching ``.done``
events and ``response.output_item.done``, and last ``response.completed`` (status completed)
or ``response.incomplete`` (cut by the token limit). An engine failure ends the stream with
``response.failed``. Every event carries a ``sequence_number``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator

import anyio

from tmax.serve.model import Choice


def _spans(pieces: list[str], start: int, length: int) -> list[str]:
    """The part of ``text[start:start + length]`` each token wrote (empty parts left out)."""
    out, offset = [], 0
    for piece in pieces:
        a, b = max(offset, start), min(offset + len(piece), start + length)
        if b > a:
            out.append(piece[a - offset:b - offset])
        offset += len(piece)
    return out


def _where(choice: Choice, text: str, after: int) -> int:
    found = choice.text.find(text, after) if text else -1
    return found if found >= 0 else after


def _text_events(item: dict, index: int, deltas: list[str], text: str) -> Iterator[tuple[str, dict]]:
    ids = {"item_id": item["id"], "output_index": index, "content_index": 0}
    if item["type"] == "reasoning":
        for delta in deltas:
            yield "response.reasoning_text.delta", {**ids, "delta": delta}
        yield "response.reasoning_text.done", {**ids, "text": text}
        return
    part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
    yield "response.content_part.added", {**ids, "part": part}
    for delta in deltas:
        yield "response.output_text.delta", {**ids, "delta": delta, "logprobs": []}
    yield "response.output_text.done", {**ids, "text": text, "logprobs": []}
    yield "response.content_part.done", {**ids, "part": {**part, "text": text}}


def _item_events(choice: Choice, items: list[dict]) -> Iterator[tuple[str, dict]]:
    after = 0
    for index, item in enumerate(items):
        opened = {**item, "status": "in_progress"} if "status" in item else dict(item)
        if item["type"] in ("message", "reasoning"):
            opened["content"] = []
        elif item["type"] == "function_call":
            opened["arguments"] = ""
        elif item["type"] == "custom_tool_call":
            opened["input"] = ""
        yield "response.output_item.added", {"output_index": index, "item": opened}
        if item["type"] in ("message", "reasoning"):
            text = item["content"][0]["text"]
            start = _where(choice, text, after)
            after = start + len(text)
            yield from _text_events(item, index, _spans(choice.pieces, start, len(text)), text)
        elif item["type"] == "function_call":
            ids = {"item_id": item["id"], "output_index": index}
            yield "response.function_call_arguments.delta", {**ids, "delta": item["arguments"]}
            yield "response.function_call_arguments.done", {**ids, "name": item["name"],
                                                            "arguments": item["arguments"]}
        else:
            ids = {"item_id": item["id"], "output_index": index}
            yield "response.custom_tool_call_input.delta", {**ids, "delta": item["input"]}
            yield "response.custom_tool_call_input.done", {**ids, "input": item["input"]}
        yield "response.output_item.done", {"output_index": index, "item": item}


async def response_events(response: dict, run: Callable[[], Choice],
                          finish: Callable[[Choice], dict]) -> AsyncIterator[dict]:
    sequence = 0

    def event(kind: str, payload: dict) -> dict:
        nonlocal sequence
        sequence += 1
        return {"event": kind, "data": json.dumps({"type": kind, "sequence_number": sequence - 1, **payload})}

    yield event("response.created", {"response": response})
    yield event("response.in_progress", {"response": response})
    try:
        choice = await anyio.to_thread.run_sync(run)
        done = finish(choice)
    except Exception as exc:  # the stream is open: the failure is its last event
        failed = {**response, "status": "failed",
                  "error": {"code": "server_error", "message": f"{type(exc).__name__}: {exc}"}}
        yield event("response.failed", {"response": failed})
        return
    for kind, payload in _item_events(choice, done["output"]):
        yield event(kind, payload)
    yield event("response.completed" if done["status"] == "completed" else "response.incomplete", {"response": done})
