"""An episode as ATIF (Harbor's Agent Trajectory Interchange Format, v1.7), the format of
``agent/trajectory.json``; and a token record as Harbor's ``rollout_details``.

    steps:  system prompt (source system), task (user), then per policy reply an agent step:
            message      the reply verbatim, tool-call markup included (what the model wrote)
            reasoning_content   when the reply carried it separately
            tool_calls   the calls tmax parsed from it (ids made up where the format has none)
            observation  what each call printed (source_call_id = its call)
            metrics      prompt/completion tokens of the call; completion_token_ids and logprobs
                         of the reply when the policy keeps a token record (extra.token_span:
                         where the reply lies in tokens.json)
            extra        generate_s, the commands' exit codes and timings, the policy's usage
                         so far, and message_fields:
                         the reply's other keys (e.g. OpenAI tool_calls) so the message list
                         comes back exactly
            a format-error reminder is a user step.
    final_metrics: token totals, step count; extra holds tool calls and format errors.
    extra.tmax:    exit_reason, n_tool_calls, n_format_errors, usage, verbatim_messages: true, the
                   tokens file's name, and what the caller adds (agent, task).

ATIF keeps a prompt's token ids per step, the whole history each time, which would make a
file quadratic in the context length. So the prompt ids are left out of the steps, and the
exact record -- one token stream, its loss mask, logprobs and reply spans -- is written beside
the trajectory as ``tokens.json``. ``rollout_details`` holds the same stream in Harbor's
per-turn shape: ``completion_token_ids`` and ``logprobs`` per reply, and under
``extra.context_token_ids`` the context tokens before each reply plus those after the last
(one more entry than replies). A reply's full prompt is the concatenation of everything before
it, so nothing is lost (``record_from_rollout_details`` rebuilds the record).
"""

from __future__ import annotations

from pathlib import Path

import tmax
from tmax.io import write_json_atomic

SCHEMA_VERSION = "ATIF-v1.7"
BASH_TOOL = {"type": "function", "function": {
    "name": "bash", "description": "Run a command in a persistent bash shell.",
    "parameters": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}}}
TOKENS_FILE = "tokens.json"
_OWN_KEYS = ("role", "content", "reasoning_content")


def _text(content) -> str:
    return content if isinstance(content, str) else "" if content is None else str(content)


def _usage_delta(turns: list[dict], i: int, key: str) -> int | None:
    now = (turns[i].get("usage") or {}).get(key)
    before = (turns[i - 1].get("usage") or {}).get(key, 0) if i > 0 else 0
    return now - before if isinstance(now, int) and isinstance(before, int) else None


def _metrics(turns: list[dict], i: int, tokens: dict | None, spans_match: bool) -> dict | None:
    metrics = {"prompt_tokens": _usage_delta(turns, i, "prompt_tokens"),
               "completion_tokens": _usage_delta(turns, i, "completion_tokens")}
    if tokens and spans_match:
        start, end = tokens["turns"][i]
        metrics.update(completion_token_ids=tokens["ids"][start:end], logprobs=tokens["logprobs"][start:end],
                       extra={"token_span": [start, end]})
        if metrics["completion_tokens"] is None:
            metrics["completion_tokens"] = end - start
    metrics = {k: v for k, v in metrics.items() if v is not None}
    return metrics or None


def _agent_step(message: dict, turn: dict, index: int, tool_messages: list[dict]) -> dict:
    step: dict = {"source": "agent", "message": _text(message.get("content"))}
    if turn.get("started_at"):
        step["timestamp"] = turn["started_at"]
    if message.get("reasoning_content"):
        step["reasoning_content"] = _text(message["reasoning_content"])
    calls = [{"tool_call_id": c.get("id") or f"call_{index + 1}_{k + 1}", "function_name": str(c["name"]),
              "arguments": c["arguments"] if isinstance(c["arguments"], dict) else {"raw": str(c["arguments"])}}
             for k, c in enumerate(turn.get("calls") or [])]
    if calls:
        step["tool_calls"] = calls
    if tool_messages:
        results = []
        for k, tool in enumerate(tool_messages):
            result: dict = {"content": _text(tool.get("content"))}
            if k < len(calls):
                result["source_call_id"] = calls[k]["tool_call_id"]
            fields = {key: v for key, v in tool.items() if key not in _OWN_KEYS}
            if fields:
                result["extra"] = {"message_fields": fields}
            results.append(result)
        step["observation"] = {"results": results}
    extra = {key: v for key, v in turn.items() if key not in ("started_at", "calls")}  # timings, commands, usage
    fields = {key: v for key, v in message.items() if key not in _OWN_KEYS}
    if fields:
        extra["message_fields"] = fields
    if extra:
        step["extra"] = extra
    return step


def episode_to_atif(episode, *, agent_name: str = "tmax", model_name: str | None = None,
                    tokens_file: str | None = None, **extra) -> dict:
    """The episode (``tmax.harness.loop.Episode``) as an ATIF trajectory dict."""
    steps: list[dict] = []
    tokens = episode.tokens
    n_replies = sum(m.get("role") == "assistant" for m in episode.messages)
    spans_match = bool(tokens) and len(tokens.get("turns") or []) == n_replies
    messages, i, reply = episode.messages, 0, 0
    while i < len(messages):
        message = messages[i]
        role = message.get("role")
        if role == "assistant":
            j = i + 1
            while j < len(messages) and messages[j].get("role") == "tool":
                j += 1
            turn = episode.turns[reply] if reply < len(episode.turns) else {}
            step = _agent_step(message, turn, reply, messages[i + 1:j])
            metrics = _metrics(episode.turns, reply, tokens, spans_match) if reply < len(episode.turns) else None
            if metrics:
                step["metrics"] = metrics
            steps.append(step)
            reply, i = reply + 1, j
            continue
        # system prompt, task, format-error reminders; a tool message without a reply before it
        # (never written by the harness) is kept as a user step rather than dropped
        steps.append({"source": role if role in ("system", "user") else "user", "message": _text(message.get("content"))})
        i += 1
    for n, step in enumerate(steps, 1):
        step["step_id"] = n
    usage = episode.usage or {}
    final = {"total_prompt_tokens": usage.get("prompt_tokens"), "total_completion_tokens": usage.get("completion_tokens"),
             "total_steps": len(steps),
             "extra": {"n_tool_calls": episode.n_tool_calls, "n_format_errors": episode.n_format_errors}}
    agent = {"name": agent_name, "version": tmax.__version__, "tool_definitions": [BASH_TOOL]}
    if model_name:
        agent["model_name"] = model_name
    return {"schema_version": SCHEMA_VERSION, "agent": agent, "steps": steps,
            "final_metrics": {k: v for k, v in final.items() if v is not None},
            "notes": "tmax: each agent step's message is the policy's reply verbatim (tool-call markup "
                     "included); tool_calls are the calls tmax parsed from it.",
            "extra": {"tmax": {"exit_reason": episode.exit_reason, "n_tool_calls": episode.n_tool_calls,
                               "n_format_errors": episode.n_format_errors, "usage": episode.usage,
                               "verbatim_messages": True,
                               "tokens_file": tokens_file, **extra}}}


def save_atif(episode, path: Path, *, agent_name: str = "tmax", model_name: str | None = None, **extra) -> None:
    """Write ``trajectory.json`` (ATIF) and, when the policy kept a token record, ``tokens.json``
    beside it."""
    path = Path(path)
    tokens_file = None
    if episode.tokens:
        tokens_file = TOKENS_FILE
        write_json_atomic(path.parent / TOKENS_FILE, {"format": "tmax-token-record-v1", **episode.tokens})
    write_json_atomic(path, episode_to_atif(episode, agent_name=agent_name, model_name=model_name,
                                            tokens_file=tokens_file, **extra))


def rollout_details(record) -> dict:
    """A token record (``ids``, ``mask``, ``logprobs``, ``turns``) as one Harbor ``RolloutDetail``."""
    completions, logprobs, contexts, cursor = [], [], [], 0
    for start, end in record.turns:
        contexts.append(record.ids[cursor:start])
        completions.append(record.ids[start:end])
        logprobs.append(record.logprobs[start:end])
        cursor = end
    contexts.append(record.ids[cursor:])
    return {"completion_token_ids": completions, "logprobs": logprobs, "extra": {"context_token_ids": contexts}}


def record_from_rollout_details(detail: dict) -> dict:
    """The token record (a ``TokenRecord.to_dict()``) that ``rollout_details`` wrote."""
    ids, mask, logprobs, turns = [], [], [], []
    contexts = detail["extra"]["context_token_ids"]
    for context, completion, lps in zip(contexts, detail["completion_token_ids"], detail["logprobs"]):
        ids += context
        mask += [0] * len(context)
        logprobs += [0.0] * len(context)
        turns.append([len(ids), len(ids) + len(completion)])
        ids += completion
        mask += [1] * len(completion)
        logprobs += lps
    tail = contexts[len(detail["completion_token_ids"])] if len(contexts) > len(detail["completion_token_ids"]) else []
    return {"ids": ids + tail, "mask": mask + [0] * len(tail), "logprobs": logprobs + [0.0] * len(tail), "turns": turns}
