"""Reading ATIF trajectories (v1.0-v1.8; tmax's own and any Harbor agent's) back into what
training needs: a chat message list and, when the steps carry token ids, one token stream.

Messages (``atif_messages``):

- ``message`` and observation ``content`` may be a string or a list of content parts: text
  parts are joined with newlines, an image or audio part becomes ``[image: <path>]`` /
  ``[audio: <path>]`` (the text models tmax trains cannot read media).
- ``reasoning_content`` stays on the assistant message (``to_record`` renders it).
- Tool calls: tmax's own trajectories hold each reply verbatim (``extra.tmax.verbatim_messages``),
  so the message is used as is; other agents' structured calls are rendered as Qwen3 XML calls
  after the message text, the command taken from ``command`` / ``keystrokes`` / the first string
  argument. Observation results become ``tool`` messages.
- A step with ``is_copied_context`` (copied from an earlier trajectory, e.g. after
  summarisation) is marked ``copied_context: True``: context, never trained on, and its tool
  calls are not counted.

Tokens (``atif_token_record``): when every agent step's ``metrics`` has ``prompt_token_ids``
and ``completion_token_ids`` and each prompt extends the stream so far (the history was not
re-rendered), the steps make one exact stream: new prompt tokens as context (mask 0), the
completion as sampled (mask 1, its logprobs or 0), copied-context completions as context.
Anything else returns None and the caller renders the messages with the chat template.

A malformed file raises ``TrajectoryError`` naming the step and field; callers skip that one
trajectory with a warning.
"""

from __future__ import annotations

from tmax.errors import TrajectoryError
from tmax.harness.policy import qwen3_xml_call

_FIX = "fix or delete this trial's agent/trajectory.json (ATIF: https://harborframework.com)"


def text_of(content, where: str) -> str:
    """A message or observation content (string or content-part list) as text."""
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, list):
        raise TrajectoryError(f"expected a string or a list of content parts, got {type(content).__name__}",
                              where=where, fix=_FIX)
    texts = []
    for k, part in enumerate(content):
        if not isinstance(part, dict) or part.get("type") not in ("text", "image", "audio"):
            raise TrajectoryError(f"part {k} is not a content part (type text, image or audio)", where=where, fix=_FIX)
        if part["type"] == "text":
            texts.append(str(part.get("text") or ""))
        else:
            texts.append(f"[{part['type']}: {(part.get('source') or {}).get('path', '?')}]")
    return "\n".join(texts)


def _steps(data, where: str) -> list[dict]:
    steps = data.get("steps") if isinstance(data, dict) else None
    if not isinstance(steps, list) or not steps:
        raise TrajectoryError("no `steps` list", where=where, fix=_FIX)
    for n, step in enumerate(steps):
        if not isinstance(step, dict) or step.get("source") not in ("system", "user", "agent"):
            raise TrajectoryError(f"steps[{n}] is not a step with source system, user or agent", where=where, fix=_FIX)
    return steps


def _tmax_extra(data: dict) -> dict:
    extra = (data.get("extra") or {}) if isinstance(data.get("extra"), dict) else {}
    return extra.get("tmax") if isinstance(extra.get("tmax"), dict) else {}


def _call_text(call: dict, where: str) -> str:
    if not isinstance(call, dict):
        raise TrajectoryError("a tool call is not an object", where=where, fix=_FIX)
    args = call.get("arguments") if isinstance(call.get("arguments"), dict) else {}
    command = args.get("command") or args.get("keystrokes") or next((v for v in args.values() if isinstance(v, str)), "")
    return qwen3_xml_call(str(command).rstrip("\n"))


def atif_messages(data: dict, where: str = "trajectory.json") -> tuple[list[dict], int]:
    """The chat messages of an ATIF trajectory and its tool-call count (copied context left out)."""
    steps = _steps(data, where)
    own = _tmax_extra(data)
    verbatim = bool(own.get("verbatim_messages"))
    messages, calls = [], 0
    for n, step in enumerate(steps):
        at = f"{where}: steps[{n}]"
        text = text_of(step.get("message"), f"{at}.message")
        if step["source"] != "agent":
            messages.append({"role": step["source"], "content": text})
            continue
        copied = bool(step.get("is_copied_context"))
        tool_calls = step.get("tool_calls") or []
        if not isinstance(tool_calls, list):
            raise TrajectoryError("tool_calls is not a list", where=at, fix=_FIX)
        extra = step.get("extra") if isinstance(step.get("extra"), dict) else {}
        message = {"role": "assistant", "content": text, **((extra.get("message_fields") or {}) if verbatim else {})}
        if not verbatim and tool_calls:
            message["content"] = "\n".join([text] * bool(text) + [_call_text(c, f"{at}.tool_calls") for c in tool_calls])
        if step.get("reasoning_content"):
            message["reasoning_content"] = str(step["reasoning_content"])
        if copied:
            message["copied_context"] = True
        else:
            calls += len(tool_calls)
        messages.append(message)
        results = (step.get("observation") or {}).get("results") or [] if isinstance(step.get("observation"), dict) else []
        for k, result in enumerate(results):
            if not isinstance(result, dict):
                raise TrajectoryError(f"observation.results[{k}] is not an object", where=at, fix=_FIX)
            fields = ((result.get("extra") or {}).get("message_fields") or {}) if verbatim else {}
            messages.append({"role": "tool", "content": text_of(result.get("content"), f"{at}.observation"), **fields})
    if verbatim and isinstance(own.get("n_tool_calls"), int):
        calls = own["n_tool_calls"]  # tmax's count: commands run, the submission not among them
    return messages, calls


def atif_token_record(data: dict, where: str = "trajectory.json") -> dict | None:
    """One token stream (``TokenRecord.to_dict()``) from the steps' token ids, or None."""
    ids, mask, logprobs, turns = [], [], [], []
    agent_steps = [s for s in _steps(data, where) if s["source"] == "agent"]
    for step in agent_steps:
        metrics = step.get("metrics") if isinstance(step.get("metrics"), dict) else {}
        prompt, completion = metrics.get("prompt_token_ids"), metrics.get("completion_token_ids")
        if not (isinstance(prompt, list) and isinstance(completion, list)) or prompt[:len(ids)] != ids:
            return None  # no ids, or the history was re-rendered: no single exact stream
        context = prompt[len(ids):]
        ids, mask, logprobs = ids + context, mask + [0] * len(context), logprobs + [0.0] * len(context)
        lps = metrics.get("logprobs")
        lps = [float(x) for x in lps] if isinstance(lps, list) and len(lps) == len(completion) else [0.0] * len(completion)
        if step.get("is_copied_context"):
            ids, mask, logprobs = ids + completion, mask + [0] * len(completion), logprobs + [0.0] * len(completion)
            continue
        turns.append([len(ids), len(ids) + len(completion)])
        ids, mask, logprobs = ids + completion, mask + [1] * len(completion), logprobs + lps
    if not turns or not all(isinstance(i, int) for i in ids):
        return None
    return {"ids": ids, "mask": mask, "logprobs": logprobs, "turns": turns}
