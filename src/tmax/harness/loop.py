"""The agent loop: a policy drives one bash tool in a sandbox until it submits or runs out.

    messages = [system, task]
    repeat:
        reply = policy.generate(messages)          (wall clock and turn limits checked first)
        calls = parser(reply)                      no call / malformed -> FormatError message
        for each call: run it in the persistent shell, append the observation
        `echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT` alone -> Submitted

Limits: ``max_tool_calls`` (64; the agent is told when one call remains), the agent
wall-clock timeout (the task's), a per-command timeout, and ``max_format_errors`` replies in
a row without a usable call, and the policy's own context budget (it raises LimitsExceeded).
The message list is the trajectory; it is saved as ATIF (``tmax.harness.atif``) with per-turn
timings, token usage, the exit reason as ``agent/trajectory.json`` and -- for policies that keep
one (``policy.record``) -- the token-exact record RL trains on as ``agent/tokens.json``. Sandbox and engine failures propagate and the trial records
an infrastructure error.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from tmax.harness.errors import FormatError, LimitsExceeded, Submitted
from tmax.harness.observation import render_observation
from tmax.harness.parsers import PARSERS, ToolCall
from tmax.harness.policy import Policy
from tmax.harness.prompts import is_submission, render, render_text
from tmax.harness.atif import save_atif
from tmax.io import now_iso
from tmax.sandbox.base import Sandbox


class HarnessConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parser: str = Field("auto", description="Tool-call parser: auto | qwen3_xml | hermes | openai | fenced_bash.")
    max_tool_calls: int = Field(64, gt=0, description="Most tool calls per episode.")
    command_timeout_sec: float = Field(180.0, gt=0, description="Per-command limit.")
    max_format_errors: int = Field(3, gt=0, description="Replies in a row without a usable tool call.")
    output_head: int = Field(5000, ge=0, description="Characters of output shown from the start.")
    output_tail: int = Field(5000, ge=0, description="Characters of output shown from the end.")
    system_prompt: str | None = Field(None, description="Jinja text of the system prompt (variables: submit_command, "
                                                        "max_tool_calls, command_timeout); default templates/system.j2.")
    instance_prompt: str | None = Field(None, description="Jinja text of the task message (variables: instruction, "
                                                          "workdir, submit_command); default templates/instance.j2.")


@dataclass
class Episode:
    messages: list[dict]
    exit_reason: str = ""
    n_tool_calls: int = 0
    n_format_errors: int = 0
    turns: list[dict] = field(default_factory=list)
    usage: dict | None = None   # the policy's token counts, when it keeps them
    tokens: dict | None = None  # TokenRecord.to_dict(): ids, mask, logprobs, turns


def _command_of(call: ToolCall) -> str:
    if call.name != "bash":
        raise FormatError(f"unknown tool {call.name!r}; the only tool is `bash` with a `command` argument")
    command = call.arguments.get("command")
    if not isinstance(command, str) or not command.strip():
        raise FormatError("the bash tool needs a non-empty `command` argument")
    return command


def _format_help(error: FormatError) -> str:
    return (f"Format error: {error}. Reply with exactly one tool call to `bash`, e.g.\n"
            "<tool_call>\n<function=bash>\n<parameter=command>\nls -la\n</parameter>\n</function>\n</tool_call>")


def run_episode(policy: Policy, sandbox: Sandbox, instruction: str, *, workdir: str = "/app",
                timeout: float = 600.0, config: HarnessConfig | None = None,
                history: list[dict] | None = None) -> Episode:
    """One episode. ``history`` (an earlier episode's messages) is continued with the new
    instruction as the next user turn instead of starting a new conversation: a multi-step
    task's step with ``inherit_prior_session``."""
    config = config or HarnessConfig()
    parse = PARSERS[config.parser]
    limits = {"command_timeout": int(config.command_timeout_sec), "max_tool_calls": config.max_tool_calls}
    system = (render_text(config.system_prompt, **limits) if config.system_prompt is not None
              else render("system.j2", **limits))
    task = (render_text(config.instance_prompt, instruction=instruction, workdir=workdir)
            if config.instance_prompt is not None else render("instance.j2", instruction=instruction, workdir=workdir))
    start = list(history) if history else [{"role": "system", "content": system}]
    episode = Episode(start + [{"role": "user", "content": task}])
    deadline = time.monotonic() + timeout
    errors_in_a_row = 0
    try:
        while True:
            if time.monotonic() >= deadline:
                raise LimitsExceeded(f"agent timeout ({timeout:g}s)")
            started, started_at = time.monotonic(), now_iso()
            reply = policy.generate(episode.messages)
            reply.setdefault("role", "assistant")
            episode.messages.append(reply)
            turn = {"started_at": started_at, "generate_s": round(time.monotonic() - started, 4), "commands": []}
            if getattr(policy, "usage", None) is not None:
                turn["usage"] = dict(policy.usage)
            episode.turns.append(turn)
            try:
                calls = parse(reply)
                if not calls:
                    raise FormatError("no tool call found in the reply")
                turn["calls"] = [{"id": call.id, "name": call.name, "arguments": call.arguments} for call in calls]
                commands = [(call, _command_of(call)) for call in calls]
            except FormatError as error:
                episode.n_format_errors += 1
                errors_in_a_row += 1
                if errors_in_a_row >= config.max_format_errors:
                    raise LimitsExceeded(f"{errors_in_a_row} replies in a row without a usable tool call")
                episode.messages.append({"role": "user", "content": _format_help(error)})
                continue
            errors_in_a_row = 0
            for call, command in commands:
                _run_call(sandbox, episode, turn, call, command, config, deadline)
    except Submitted:
        episode.exit_reason = "submitted"
    except LimitsExceeded as limit:
        episode.exit_reason = f"limits_exceeded: {limit}"
    finally:
        episode.usage = dict(policy.usage) if getattr(policy, "usage", None) is not None else None
        record = getattr(policy, "record", None)
        episode.tokens = record.to_dict() if record is not None else None
    return episode


def _run_call(sandbox: Sandbox, episode: Episode, turn: dict, call: ToolCall, command: str,
              config: HarnessConfig, deadline: float) -> None:
    if is_submission(command):
        raise Submitted()
    if episode.n_tool_calls >= config.max_tool_calls:
        raise LimitsExceeded(f"{config.max_tool_calls} tool calls")
    episode.n_tool_calls += 1
    limit = max(1.0, min(config.command_timeout_sec, deadline - time.monotonic()))
    result = sandbox.exec(command, timeout=limit)
    text = render_observation(result, head=config.output_head, tail=config.output_tail, timeout=limit)
    left = config.max_tool_calls - episode.n_tool_calls
    if left == 1:
        text += "\n[one tool call remains: submit now if the task is complete]"
    message = {"role": "tool", "content": text}
    if call.id:
        message["tool_call_id"] = call.id
    episode.messages.append(message)
    turn["commands"].append({"command": command, "exit_code": result.exit_code, "timed_out": result.timed_out,
                             "duration_s": round(result.duration_s, 4), "shell_restarted": result.shell_restarted})
    if left <= 0:
        raise LimitsExceeded(f"{config.max_tool_calls} tool calls")


def save_trajectory(episode: Episode, path: Path, *, agent: str = "tmax", model_name: str | None = None,
                    **extra) -> None:
    """``trajectory.json`` as ATIF, the token record as ``tokens.json`` beside it (``tmax.harness.atif``)."""
    save_atif(episode, path, agent_name=agent, model_name=model_name, **extra)


def load_trajectory(path: Path) -> dict:
    return json.loads(Path(path).read_text())
