"""SFT data: successful trajectories from eval job dirs, as token records.

Trajectories are ATIF (``agent/trajectory.json``, read by ``tmax.harness.atif_read``): tmax's
own (each reply verbatim; the exact token record in ``agent/tokens.json`` when a token engine
wrote one) and any Harbor agent's (content parts, reasoning, copied context, token ids in the
step metrics); trial dirs of tmax before ATIF (``messages`` + ``tokens`` inline) still read.
A malformed trajectory skips its trial with a ``TrajectoryWarning``, never the collection.
The filter keeps trials whose reward is at least ``min_reward`` and that made at least
``min_tool_calls`` tool calls (the recipe: successful rollouts with 5+ calls). Each kept trajectory becomes a ``TokenRecord`` whose mask marks the assistant turns:
the engine's own tokens when they were recorded (tokens.json, or ATIF steps whose prompt ids
extend one stream), otherwise the chat template's rendering of the messages (assistant text
tokenized as written, a separate reasoning_content in front as a Qwen3 thinking block, tool
calls in Qwen3 XML; copied-context replies masked out).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from tmax.engines.chat import ChatRenderer, TokenRecord
from tmax.errors import TrajectoryError
from tmax.harness.atif_read import atif_messages, atif_token_record
from tmax.io import read_json_or_none


class TrajectoryWarning(UserWarning):
    """One trial's trajectory could not be read; the collection goes on without it."""


@dataclass
class Example:
    trial: str
    task: str
    reward: float
    n_tool_calls: int
    messages: list[dict]
    tokens: dict | None = None  # a TokenRecord dict, when the trajectory carried one


def _reward(result: dict) -> float | None:
    reward = result.get("reward")
    if reward is None:
        reward = ((result.get("verifier_result") or {}).get("rewards") or {}).get("reward")
    return float(reward) if isinstance(reward, (int, float)) else None


def _example(trial_dir: Path) -> Example | None:
    """One trial's example, None when it has no reward or trajectory; raises TrajectoryError
    when its trajectory is malformed."""
    result = read_json_or_none(trial_dir / "result.json")
    path = trial_dir / "agent" / "trajectory.json"
    trajectory = read_json_or_none(path) if path.is_file() else None
    if not isinstance(result, dict) or (reward := _reward(result)) is None:
        return None
    if trajectory is None:
        if path.is_file():
            raise TrajectoryError("not readable JSON", where=str(path), fix="fix or delete the file")
        return None
    if not isinstance(trajectory, dict):
        raise TrajectoryError("not a JSON object", where=str(path), fix="fix or delete the file")
    if "messages" in trajectory:  # tmax before ATIF: the message list and the token record inline
        messages, calls = trajectory["messages"], int(trajectory.get("n_tool_calls") or 0)
        if not isinstance(messages, list) or not all(isinstance(m, dict) and "role" in m for m in messages):
            raise TrajectoryError("`messages` is not a list of chat messages", where=str(path), fix="fix or delete the file")
        tokens = trajectory.get("tokens")
    else:
        messages, calls = atif_messages(trajectory, str(path))
        tokens = _own_tokens(trajectory, path) or atif_token_record(trajectory, str(path))
    return Example(trial_dir.name, str(result.get("task_name", trial_dir.name)), reward, calls, messages, tokens)


def _own_tokens(trajectory: dict, path: Path) -> dict | None:
    """tmax's exact token record beside its ATIF trajectory (``agent/tokens.json``)."""
    name = (((trajectory.get("extra") or {}).get("tmax") or {}).get("tokens_file")
            if isinstance(trajectory.get("extra"), dict) else None)
    if not isinstance(name, str) or "/" in name:
        return None
    data = read_json_or_none(path.parent / name)
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list) for k in ("ids", "mask", "logprobs", "turns")):
        raise TrajectoryError(f"{name} is missing or not a token record", where=str(path.parent / name),
                              fix="delete the trajectory's extra.tmax.tokens_file to train on the messages")
    return data


def collect(job_dirs: list[Path], *, min_reward: float = 1.0, min_tool_calls: int = 5) -> list[Example]:
    """Kept examples from every trial dir under the job dirs (sorted by trial name). A trial
    whose trajectory is malformed is skipped with a warning naming the file."""
    examples = []
    for job in map(Path, job_dirs):
        for result in sorted(job.glob("*/result.json")):
            try:
                example = _example(result.parent)
            except TrajectoryError as exc:
                warnings.warn(f"skipping one trial: {exc}", TrajectoryWarning, stacklevel=2)
                continue
            if example and example.reward >= min_reward and example.n_tool_calls >= min_tool_calls:
                examples.append(example)
    return examples


REASONING = "<think>\n{}\n</think>\n\n"
"""How a reply's separate ``reasoning_content`` is put before its text when rendered for
training: the Qwen3 thinking block, as tmax's policies sample it."""


def assistant_text(message: dict) -> str:
    """What the policy would have written for this assistant message."""
    text = message.get("content") or ""
    reasoning = message.get("reasoning_content")
    return REASONING.format(reasoning) + text if reasoning else text


def to_record(example: Example, renderer: ChatRenderer) -> TokenRecord:
    """The example in token space, assistant turns masked in (engine tokens when recorded;
    otherwise the chat template's rendering, copied-context replies masked out)."""
    if example.tokens:
        return TokenRecord.from_dict(example.tokens)
    record = TokenRecord()
    messages = example.messages
    first = next((i for i, m in enumerate(messages) if m["role"] == "assistant"), len(messages))
    record.add_context(renderer.prompt_ids(messages[:first]))
    i = first
    while i < len(messages):
        reply = messages[i]
        ids = renderer.tokenizer(assistant_text(reply), add_special_tokens=False)["input_ids"] + renderer.end_of_turn_ids
        if reply.get("copied_context"):  # ATIF: copied from an earlier trajectory, never trained on
            record.add_context(ids)
        else:
            record.add_sampled(ids, [0.0] * len(ids))
        j = i + 1
        while j < len(messages) and messages[j]["role"] != "assistant":
            j += 1
        if j > i + 1 or j < len(messages):
            record.add_context(renderer.continuation_ids(messages[i + 1:j]))
        i = j
    return record
