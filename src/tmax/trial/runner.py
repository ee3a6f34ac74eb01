"""One trial: build the task's environment, start a sandbox, run an agent, verify, record.

The trial directory follows Harbor's layout, its JSON files validated by Harbor's own models
(``tmax.trial.harbor_result``), so ``harbor view`` and ``tmax report`` read it::

    <job_dir>/<task>__<id>/
        config.json              Harbor's TrialConfig (written first: an unfinished trial shows)
        result.json              Harbor's TrialResult: rewards, timings, errors; tmax's extras beside
        agent/                   the agent's logs (oracle.txt, or ATIF trajectory.json + tokens.json)
        verifier/reward.txt      the reward, plus reward.json / ctrf.json when the tests wrote them
        verifier/test-stdout.txt what test.sh printed
        environment/build.log    the image build log (when a build ran)

A multi-step task runs its steps in the one sandbox (``tmax.trial.steps``; each step's
record under ``steps/<name>/``); a separate verifier (the task's, or every task's with
``isolated_verifier``) runs in a fresh sandbox over the agent's workspace
(``tmax.trial.isolated``). Networks follow ``tmax.tasks.harbor_format``: offline unless the
task asks for one explicitly; the decision is recorded under ``environment.network``.

Between the agent and the verifier every process the agent started is ended
(``Sandbox.end_processes``). A failure the agent can cause scores 0 with the reason under
``agent_failure``; one outside its reach (build, sandbox start, the engine, a fresh sandbox of
the image failing too) gets ``exception_info`` and ``reward: null`` -- never a silent 0. See
``_verify`` for the rule.
"""

from __future__ import annotations

import secrets
from contextlib import contextmanager
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from tmax.io import now_iso, write_json_atomic
from tmax.sandbox import SandboxSpec, prepare_environment, start_sandbox
from tmax.tasks import Task
from tmax.trial.agents import Agent, make_agent
from tmax.errors import SandboxError, VerifierError
from tmax.tasks.harbor_format import agent_network, verifier_network
from tmax.trial.harbor_result import agent_context, set_verdict, start_result
from tmax.trial.isolated import run_isolated_verifier, verifier_starter
from tmax.trial.steps import run_steps
from tmax.trial.tamper import tampering
from tmax.trial.verifier import VerifierResult, run_verifier


@dataclass
class TrialSummary:
    task: str
    trial_dir: Path
    reward: float | None
    error: str | None
    duration_s: float
    record: object | None = None
    """The agent's token record, in memory (``AgentOutcome.record``); RL trains on it."""


@contextmanager
def _phase(result: dict, name: str):
    """Record ``started_at`` / ``finished_at`` of one phase into the result dict."""
    result[name] = {"started_at": now_iso(), "finished_at": None}
    try:
        yield
    finally:
        result[name]["finished_at"] = now_iso()


def _verify(sandbox, task: Task, out_dir: Path, fresh_sandbox, keep_agent_processes: bool = False,
            on_tampering: str = "zero", start_verifier=None) -> VerifierResult:
    """End the agent's processes, then verify. A failure the agent can cause scores 0 with the
    reason (``VerifierResult.failure``); a failure that a fresh sandbox of the same image also
    shows is the infrastructure's and raises (the trial is an error, masked in RL).

    The rule: after the agent has run, the sandbox being dead or unusable, the verifier timing
    out, or its reward missing or unreadable is the agent's doing (or the task's, which a
    reference solution would show) -- unless a fresh sandbox of the image cannot start or run a
    command either, which only the host or the container runtime can cause. Where the sandbox's
    root is writable and the verifier shares it, replacing a program or start-up hook the
    verifier would run (``tmax.trial.tamper``) scores 0 too (``on_tampering``: "strict", "zero" or
    "warn"). A separate verifier (``start_verifier``) runs in a fresh sandbox over the workspace;
    its probe is a fresh sandbox of the verifier's image."""
    try:
        if not keep_agent_processes:
            sandbox.end_processes()
        if start_verifier is not None:  # a separate verifier: a fresh sandbox over the workspace
            return run_isolated_verifier(sandbox, task, out_dir, start_verifier)
        changed = _tampered(sandbox, on_tampering)
        verdict = run_verifier(sandbox, task, out_dir)
        if changed:
            verdict.warnings.append(f"the agent changed files the verifier may run: {', '.join(changed[:10])}")
        return verdict
    except VerifierError as exc:
        return VerifierResult.failed("verifier", exc)
    except SandboxError as exc:
        try:
            with (start_verifier or fresh_sandbox)() as probe:
                if probe.exec("true", 60).exit_code != 0:
                    raise SandboxError("a fresh sandbox of the image could not run `true`", where="probe")
        except SandboxError:
            raise exc from None  # the host or runtime fails without the agent: infrastructure
        return VerifierResult.failed("sandbox", exc)


def _tampered(sandbox, on_tampering: str) -> list[str]:
    """What the agent changed of the verifier's programs and start-up hooks (writable roots
    only); raises the VerifierError that scores 0 where ``on_tampering`` says so."""
    if not hasattr(sandbox, "image_changes"):
        return []
    replaced, suspect = tampering(sandbox.image_changes())
    if on_tampering == "strict":
        replaced, suspect = sorted(replaced + suspect), []
    if replaced and on_tampering != "warn":
        raise VerifierError(f"the agent replaced what the verifier runs: {', '.join(replaced[:10])}"
                            + (f" and {len(replaced) - 10} more" if len(replaced) > 10 else ""),
                            where="the sandbox's root against its image",
                            fix="a task that must change these files can be run with on_tampering='warn'")
    return replaced + suspect


def _views(task: Task) -> dict:
    """The task itself (key None), or each of its steps by name."""
    return {s.name: task.for_step(s.name) for s in task.steps} if task.steps else {None: task}


def _verifier_starters(task: Task, backend: str, log_path: Path) -> dict:
    """Build each separate verifier's environment before the agent starts (a failed build is
    the infrastructure's, and no agent time is spent on a task that cannot be verified)."""
    return {key: verifier_starter(view, backend, log_path) for key, view in _views(task).items()
            if view.verifier_env is not None}


def _networks(task: Task) -> dict:
    """What Harbor would give each phase, where it came from, and what tmax gives."""
    out = {"agent": agent_network(task.config).record()}
    for key, view in _views(task).items():
        step = view.step.config if view.step else None
        if step is not None:  # one sandbox for every step: its network is fixed when it starts
            agent = agent_network(task.config, step).record()
            if agent["network"] != out["agent"]["network"]:
                agent["note"] = "not honoured: the steps share one sandbox, started with the task's [agent] network"
                agent["network"] = out["agent"]["network"]
            out[f"agent[{key}]"] = agent
        phase = verifier_network(task.config, step, separate=view.verifier_env is not None).record()
        if view.verifier_env is None:  # shared: the verifier runs in the agent's sandbox, on its network
            phase["network"] = out["agent"]["network"]
        out["verifier" if key is None else f"verifier[{key}]"] = phase
    return out


def spec_for(task: Task) -> SandboxSpec:
    env = task.config.environment
    return SandboxSpec(cpus=env.cpus, memory_mb=env.memory_mb, network=agent_network(task.config).network,
                       storage_mb=env.storage_mb or SandboxSpec.model_fields["storage_mb"].default,
                       command_timeout_sec=task.config.agent.timeout_sec)


def run_trial(task: Task, job_dir: Path, *, agent: str | Agent = "oracle", backend: str = "podman",
              trial_name: str | None = None, agent_name: str | None = None, model_info: dict | None = None,
              run: int | None = None, keep_agent_processes: bool = False,
              job_id: str | None = None, on_tampering: str = "zero",
              isolated_verifier: bool = False) -> TrialSummary:
    """One trial. ``agent`` is an agent function (``tmax.trial.agents.make_agent``) or the name of a
    model-free one; ``model_info`` ({name, provider}) and ``run`` (the run index of an eval) go
    into result.json, ``job_id`` (the id in the job's ``result.json``) into config.json.
    ``keep_agent_processes`` verifies with the agent's processes still running (Harbor's
    semantics, for tests that probe services the agent left running): a process of the agent's
    can then write the reward, so it is for evaluating agents you trust, never for RL.
    ``on_tampering``: what a program or start-up hook of the verifier's that the agent replaced
    does to the trial (``tmax.trial.tamper``; writable roots only): "zero" scores it 0 and warns
    of suspect hooks (``.pth`` files installs also write), "strict" (RL) scores those 0 too,
    "warn" only warns. ``isolated_verifier`` runs every verifier in a fresh sandbox over the
    agent's workspace, as a task's ``[verifier] environment_mode = "separate"`` does."""
    if on_tampering not in ("strict", "zero", "warn"):
        raise ValueError(f"on_tampering must be 'strict', 'zero' or 'warn', not {on_tampering!r}")
    if isolated_verifier:
        task = task.isolated()
    if isinstance(agent, str):
        agent_name, agent = agent_name or agent, make_agent(agent)
    agent_name = agent_name or getattr(agent, "__name__", "agent")
    trial_name = trial_name or f"{task.short_name}__{secrets.token_hex(4)}"
    trial_dir = job_dir / trial_name
    trial_dir.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    outcome = None
    result = start_result(task, trial_dir, agent_name=agent_name, model_info=model_info, backend=backend,
                          run=run, keep_agent_processes=keep_agent_processes, job_id=job_id,
                          harness=getattr(agent, "harness", "tmax"))
    result["isolated_verifier"] = isolated_verifier
    try:
        with _phase(result, "environment_setup"):
            env = prepare_environment(task, backend, trial_dir / "environment" / "build.log")
            result["environment"] = {"backend": backend, "image": env.image, "workdir": env.workdir,
                                     "image_substitutions": env.substitutions, "build_cached": env.build_cached,
                                     "build_s": round(env.build_s, 3), "network": _networks(task)}
            starters = _verifier_starters(task, backend, trial_dir / "environment" / "verifier-build.log")
            if starters:
                result["environment"]["verifier_environments"] = {
                    "task" if k is None else f"steps/{k}": v.verifier_env.source
                    for k, v in _views(task).items() if v.verifier_env}
                result["verifier_environment_mode"] = "separate"
            sandbox = start_sandbox(backend, env, spec_for(task), label=task.short_name)
            result["environment"]["limits"] = getattr(sandbox, "limits", None)  # what this backend enforced
        fresh = lambda: start_sandbox(backend, env, spec_for(task), label=f"{task.short_name}-probe")  # noqa: E731
        with sandbox:
            if task.steps:
                with _phase(result, "agent_execution"):  # agent and verifier alternate, step by step
                    verdict, result["step_results"], outcome = run_steps(
                        sandbox, task, trial_dir, agent, lambda view, out: _verify(
                            sandbox, view, out, fresh, keep_agent_processes, on_tampering,
                            starters.get(view.step.name)))
                    if outcome is not None:
                        result["agent_result"] = agent_context(outcome)
            else:
                with _phase(result, "agent_execution"):
                    try:
                        outcome = agent(sandbox, task, trial_dir / "agent", task.config.agent.timeout_sec)
                        result["agent_result"] = agent_context(outcome)
                    except SandboxError as exc:  # the sandbox broke under the agent: its work is still verified
                        result["agent_result"] = {"metadata": {"sandbox_error": str(exc)}}
                with _phase(result, "verifier"):
                    verdict = _verify(sandbox, task, trial_dir / "verifier", fresh, keep_agent_processes,
                                      on_tampering, starters.get(None))
        set_verdict(result, verdict)
    except Exception as exc:  # every failure is recorded in the trial, none ends the job
        result["exception_info"] = {"exception_type": type(exc).__name__, "exception_message": str(exc),
                                    "exception_traceback": traceback.format_exc(), "occurred_at": now_iso()}
    result["finished_at"] = now_iso()
    write_json_atomic(trial_dir / "result.json", result)
    error = None
    if result["exception_info"]:
        error = f"{result['exception_info']['exception_type']}: {str(result['exception_info']['exception_message']).splitlines()[0]}"
    # a multi-step trial's record would hold its last step only: RL masks such trials for now
    return TrialSummary(task.name, trial_dir, result["reward"], error, time.monotonic() - start,
                        record=outcome.record if outcome and not task.steps else None)
