"""Agents: what a trial runs between starting the sandbox and verifying it.

Every agent has one signature, ``agent(sandbox, task, log_dir, timeout) -> AgentOutcome``, and
one registry, ``AGENTS``: name -> a factory that builds the agent from the job's harness and
engine configs (``make_agent``). Model-free agents act on the sandbox directly: ``oracle`` and
``noop``.

The oracle uploads the task's reference solution and runs it (Harbor: ``solution/`` to
``/solution``, ``bash /solution/solve.sh``); it proves a task is solvable and its verifier
accepts a right answer. ``noop`` does nothing and proves the verifier rejects an untouched
environment. ``scripted`` sends the reference solution's script through the full agent
harness (prompts, Qwen3 XML tool calls, parser, persistent shell, limits) as one command,
then submits: the harness end to end without a model. ``stepwise`` sends it one complete
command at a time (a multi-line construct stays whole), which makes oracle trajectories with
several tool calls: SFT data for a model that has to learn to work step by step. ``model_agent`` wraps a policy
factory (an engine) into the same signature the trial runner calls:
``agent(sandbox, task, log_dir, timeout) -> AgentOutcome``.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tmax.errors import ConfigError, TaskError
from tmax.sandbox.base import Sandbox
from tmax.tasks import Task


@dataclass
class AgentOutcome:
    timed_out: bool = False
    exit_code: int | None = None
    metadata: dict = field(default_factory=dict)
    n_input_tokens: int | None = None
    n_output_tokens: int | None = None
    record: object | None = None
    """The episode's token record (``tmax.engines.chat.TokenRecord``) when the policy keeps one:
    RL takes it from here, in memory; ``agent/trajectory.json`` is the record on disk."""
    messages: list[dict] | None = None
    """The conversation, for agents that keep one: a later step with ``inherit_prior_session``
    continues it (``Task.session``)."""


def oracle(sandbox: Sandbox, task: Task, log_dir: Path, timeout: float) -> AgentOutcome:
    if not task.has_oracle:
        raise TaskError("task has no reference solution", where=f"{task.path}",
                        fix="add solution/solve.sh (Harbor) or solution.sh (Terminal-Bench 1)")
    for src, dest in task.oracle_uploads:
        sandbox.upload(src, dest)
    shell = sandbox.open_shell(env=task.config.solution.env)
    try:
        result = shell.run(task.oracle_command, timeout)
    finally:
        shell.close()
    log_dir.mkdir(parents=True, exist_ok=True)
    (log_dir / "oracle.txt").write_text(result.output)
    return AgentOutcome(result.timed_out, result.exit_code, {"command": task.oracle_command,
                                                             "duration_s": round(result.duration_s, 3)})


def noop(sandbox: Sandbox, task: Task, log_dir: Path, timeout: float) -> AgentOutcome:
    log_dir.mkdir(parents=True, exist_ok=True)
    return AgentOutcome(metadata={"note": "did nothing"})


def scripted(sandbox: Sandbox, task: Task, log_dir: Path, timeout: float) -> AgentOutcome:
    from tmax.harness.loop import run_episode, save_trajectory
    from tmax.harness.policy import ScriptedPolicy

    if not task.has_oracle:
        raise TaskError("task has no reference solution to script", where=f"{task.path}",
                        fix="add solution/solve.sh (Harbor) or solution.sh (Terminal-Bench 1)")
    script = task.oracle_script.read_text()
    episode = run_episode(ScriptedPolicy([f"bash <<'TMAX_SCRIPT'\n{script}\nTMAX_SCRIPT"]), sandbox,
                          task.instruction, workdir="/app", timeout=timeout, history=task.session)
    save_trajectory(episode, log_dir / "trajectory.json", agent="scripted", task=task.name)
    return AgentOutcome(timed_out="timeout" in episode.exit_reason, metadata={
        "exit_reason": episode.exit_reason, "n_tool_calls": episode.n_tool_calls}, messages=episode.messages)


_SCRIPT_ONLY = re.compile(r"^set(\s+([-+][euxo]+|pipefail))+$")


def script_steps(script: str) -> list[str]:
    """The script's top-level commands, in order. A line is joined with the next ones until
    ``bash -n`` (parse only, nothing runs) accepts the chunk, so heredocs, loops and
    continuations stay in one step. Comments, the shebang and ``set -e``-style options are
    left out: in a persistent interactive shell ``set -e`` ends the session at the first
    failing command."""
    steps, chunk = [], []
    for line in script.splitlines():
        if not chunk and (not line.strip() or line.lstrip().startswith("#") or _SCRIPT_ONLY.match(line.strip())):
            continue
        chunk.append(line)
        text = "\n".join(chunk)
        check = subprocess.run(["bash", "-n"], input=text, text=True, capture_output=True)
        # an unterminated heredoc parses with only a warning on stderr
        if not text.rstrip().endswith("\\") and check.returncode == 0 and not check.stderr:
            steps.append(text.strip("\n"))
            chunk = []
    if chunk:
        steps.append("\n".join(chunk).strip("\n"))  # unparsable tail: let the shell report it
    return steps


def stepwise_agent(config=None) -> Callable:
    """The ``stepwise`` agent with a harness config (prompts, limits), as model agents get one:
    SFT data must be rendered with the prompts the model will later see."""
    from tmax.harness.loop import run_episode, save_trajectory
    from tmax.harness.policy import ScriptedPolicy

    def stepwise(sandbox: Sandbox, task: Task, log_dir: Path, timeout: float) -> AgentOutcome:
        if not task.has_oracle:
            raise TaskError("task has no reference solution to script", where=f"{task.path}",
                            fix="add solution/solve.sh (Harbor) or solution.sh (Terminal-Bench 1)")
        steps = script_steps(task.oracle_script.read_text())
        episode = run_episode(ScriptedPolicy(steps, narrate=False), sandbox, task.instruction, workdir="/app",
                              timeout=timeout, config=config, history=task.session)
        save_trajectory(episode, log_dir / "trajectory.json", agent="stepwise", task=task.name)
        return AgentOutcome(timed_out="timeout" in episode.exit_reason, metadata={
            "exit_reason": episode.exit_reason, "n_tool_calls": episode.n_tool_calls}, messages=episode.messages)

    return stepwise


def model_agent(new_policy: Callable[[], object], config=None) -> Callable:
    """An agent that runs the harness with a fresh policy per trial and saves its trajectory
    (with token records when the policy keeps them) as ``agent/trajectory.json``."""
    from tmax.harness.loop import run_episode, save_trajectory

    def agent(sandbox: Sandbox, task: Task, log_dir: Path, timeout: float) -> AgentOutcome:
        policy = new_policy()
        episode = run_episode(policy, sandbox, task.instruction, workdir="/app", timeout=timeout, config=config,
                              history=task.session)
        save_trajectory(episode, log_dir / "trajectory.json", task=task.name)
        usage = episode.usage or {}
        return AgentOutcome(timed_out="agent timeout" in episode.exit_reason,
                            metadata={"exit_reason": episode.exit_reason, "n_tool_calls": episode.n_tool_calls,
                                      "n_format_errors": episode.n_format_errors, "n_turns": len(episode.turns)},
                            n_input_tokens=usage.get("prompt_tokens"), n_output_tokens=usage.get("completion_tokens"),
                            record=getattr(policy, "record", None), messages=episode.messages)

    return agent


Agent = Callable[[Sandbox, Task, Path, float], AgentOutcome]


@dataclass(frozen=True)
class AgentKind:
    """A registry entry: ``make(harness, engine) -> agent``; ``uses_model`` says whether the
    agent needs an engine (and so a model name in the job's identity)."""
    make: Callable[..., Agent]
    uses_model: bool = False


def _model_kind(engine_name: str) -> AgentKind:
    def make(harness, engine) -> Agent:
        from tmax.engines import EngineConfig, policy_factory

        engine = (engine or EngineConfig()).model_copy(update={"name": engine_name})
        agent = model_agent(policy_factory(engine), harness)
        agent.__name__ = engine_name
        return agent

    return AgentKind(make, uses_model=True)


AGENTS: dict[str, AgentKind] = {
    "oracle": AgentKind(lambda harness, engine: oracle),
    "noop": AgentKind(lambda harness, engine: noop),
    "scripted": AgentKind(lambda harness, engine: scripted),
    # it runs the harness: SFT data must be rendered with the prompts the model will later see
    "stepwise": AgentKind(lambda harness, engine: stepwise_agent(harness)),
    **{name: _model_kind(name) for name in ("openai", "hf", "vllm")},
}


def agent_kind(name: str) -> AgentKind:
    if name not in AGENTS:
        raise ConfigError(f"unknown agent {name!r}", where="--agent", fix=f"choose one of: {', '.join(AGENTS)}")
    return AGENTS[name]


def make_agent(name: str, harness=None, engine=None) -> Agent:
    """The agent registered as ``name``, built with the job's harness and engine configs."""
    return agent_kind(name).make(harness, engine)
