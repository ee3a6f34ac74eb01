"""A multi-step trial: the steps of a task, in order, in one sandbox (Harbor's ``MultiStepTrial``).

For each step (``Task.for_step``): the step's ``workdir/`` is copied into the working
directory and its ``setup.sh`` runs (a failure before any agent acted is the task's error;
after one did, a step reward of 0 that stops the trial); the agent gets the step's instruction -- in the previous
step's conversation when the step says ``inherit_prior_session = true``, in a fresh one
otherwise -- then the step's verifier runs (in the agent's sandbox, or in a fresh one when
the step's verifier is separate) and its rewards are recorded under ``step_results``. The
files the agent made carry over to the next step; its processes do not (they are ended
before every verification, as in a single-step trial). Before the next step's agent starts,
``/tests`` and ``/logs/verifier`` of the shared sandbox are emptied, so no step sees an
earlier step's hidden tests.

``min_reward`` (a number gates the ``reward`` key, a table gates each key it names; a
missing key counts as -inf) stops the remaining steps when the step falls short. The
trial's rewards are then, as Harbor computes them, the per-key mean over the steps that ran
(``multi_step_reward_strategy = "mean"``, the default; a key a step lacks counts 0) or the
last step's rewards (``"final"``); the scalar is read from them by the rule of
``tmax.trial.verifier.primary_reward``.

One difference from Harbor: a verifier failure the agent can cause (no reward file, a
timeout, a dead sandbox) is a step reward of 0 that counts in the mean and stops the steps.
Harbor leaves such a step out of the mean, which would let an agent keep an earlier
step's score by breaking a later step's verifier.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path

from tmax.errors import SandboxError, TaskError
from tmax.io import now_iso
from tmax.sandbox.base import Sandbox
from tmax.tasks import Task
from tmax.trial.verifier import VerifierResult, primary_reward


def below_min_reward(rewards: dict[str, float] | None, min_reward: float | dict[str, float] | None) -> str | None:
    """Why the step stops the trial, or None when it passes (or has no threshold)."""
    if min_reward is None:
        return None
    thresholds = {"reward": min_reward} if isinstance(min_reward, (int, float)) else min_reward
    for key, threshold in thresholds.items():
        actual = (rewards or {}).get(key, float("-inf"))
        if actual < threshold:
            return f"{key}={actual} below min_reward {threshold}"
    return None


def aggregate(step_rewards: list[dict[str, float]], strategy: str | None) -> dict[str, float]:
    """The trial's rewards from the steps that ran: per-key mean (missing keys 0) or the last."""
    if not step_rewards:
        return {}
    if strategy == "final":
        return dict(step_rewards[-1])
    keys = sorted({k for r in step_rewards for k in r})
    return {k: sum(r.get(k, 0.0) for r in step_rewards) / len(step_rewards) for k in keys}


def _setup(sandbox: Sandbox, task: Task, index: int) -> str | None:
    """Copy the step's ``workdir/`` into the working directory and run its ``setup.sh``; returns
    why it failed, or None."""
    step = task.steps[index]
    if step.workdir is None:
        return None
    shell = sandbox.open_shell()  # a fresh shell starts in the image's working directory
    try:
        workdir = shell.run("pwd", 60).output.strip() or "/"
        sandbox.upload(step.workdir, workdir)
        if not (step.workdir / "setup.sh").is_file():
            return None
        done = shell.run(f"bash {shlex.quote(workdir.rstrip('/') + '/setup.sh')}", 600)
    finally:
        shell.close()
    return None if done.exit_code == 0 else f"setup.sh exited with {done.exit_code}: {done.output[-500:]}"


def run_steps(sandbox: Sandbox, task: Task, trial_dir: Path, agent: Callable,
              verify: Callable[[Task, Path], VerifierResult]) -> tuple[VerifierResult, list[dict], object]:
    """Run every step; returns the trial's verdict, the step records and the last agent outcome."""
    records: list[dict] = []
    session, outcome, stopped = None, None, None
    for index, step in enumerate(task.steps):
        view = task.for_step(step.name, session=session if step.config.inherit_prior_session else None)
        record: dict = {"step_name": step.name, "inherit_prior_session": step.config.inherit_prior_session,
                        "agent_result": None, "verifier_result": None, "reward": None}
        records.append(record)
        step_dir = trial_dir / "steps" / step.name
        if index and records[-2].get("shared_verifier"):
            sandbox.exec("rm -rf /tests /logs/verifier; mkdir -p /tests /logs/verifier", 60)
        failed = _setup(sandbox, task, index)
        if failed and not index:  # before any agent acted: the task's fault
            raise TaskError(f"step {step.name!r}: {failed}", where=f"{task.path}/steps/{step.name}/workdir",
                            fix="make setup.sh succeed on the task's image")
        if failed:  # an earlier step's agent may have caused it: a 0 that counts, never a skip
            record.update(reward=0.0, agent_failure={"phase": "setup", "type": "StepSetupError", "message": failed},
                          verifier_result={"rewards": {"reward": 0.0}, "source": "agent-caused failure",
                                           "exit_code": None, "warnings": []},
                          stopped_trial=f"step {step.name!r}: {failed}")
            stopped = record["stopped_trial"]
            break
        record["agent_execution"] = {"started_at": now_iso()}
        try:
            outcome = agent(sandbox, view, step_dir / "agent", view.config.agent.timeout_sec)
            record["agent_result"] = {"timed_out": outcome.timed_out, "exit_code": outcome.exit_code,
                                      "metadata": outcome.metadata}
            session = outcome.messages
        except SandboxError as exc:  # its work is still verified, as in a single-step trial
            record["agent_result"] = {"sandbox_error": str(exc)}
            session = None
        record["agent_execution"]["finished_at"] = now_iso()
        record["verifier"] = {"started_at": now_iso()}
        verdict = verify(view, step_dir / "verifier")
        record["verifier"]["finished_at"] = now_iso()
        record["shared_verifier"] = view.verifier_env is None
        record["verifier_result"] = {"rewards": verdict.rewards, "source": verdict.source,
                                     "exit_code": verdict.exit_code, "warnings": verdict.warnings}
        record["reward"] = verdict.reward
        if verdict.failure:
            record["agent_failure"] = verdict.failure
            stopped = f"step {step.name!r}: the verifier failed ({verdict.failure['type']})"
        else:
            reason = below_min_reward(verdict.rewards, step.config.min_reward)
            stopped = f"step {step.name!r}: {reason}" if reason else None
        if stopped:
            record["stopped_trial"] = stopped
            break
    rewards = aggregate([r["verifier_result"]["rewards"] for r in records], task.config.multi_step_reward_strategy)
    warnings: list[str] = []
    reward = primary_reward(rewards, f"{task.name}: steps", warnings) if rewards else 0.0
    if stopped:
        warnings.append(f"stopped after {stopped}; {len(task.steps) - len(records)} step(s) not run")
    failure = next((r["agent_failure"] for r in records if "agent_failure" in r), None)
    return (VerifierResult(reward, rewards, source=f"{len(records)} of {len(task.steps)} steps "
                           f"({task.config.multi_step_reward_strategy or 'mean'})", warnings=warnings,
                           failure=failure), records, outcome)
