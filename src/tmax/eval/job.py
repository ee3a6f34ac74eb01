"""An evaluation job: every task x every run, one trial each, under one job dir.

    <jobs_dir>/<job_name>/
        config.json            Harbor's JobConfig (tasks x agent x environment, n_attempts = runs)
        result.json            Harbor's JobResult: progress and stats, updated as trials finish
        job.json               tmax's resolved config, progress, and (when finished) the metrics
        <task>__r<k>/          a Harbor trial dir per (task, run k) (``tmax.trial.harbor_result``)

Resumable: a rerun with the same job name skips trials that already have a result.json
(errored ones are tried again unless ``retry_errors`` is off), and refuses to mix agents or
models in one job dir. Trials run in a thread pool (``concurrency``); model agents share one
engine, whose requests are batched or sent concurrently.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime
from pathlib import Path

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tmax.engines import EngineConfig
from tmax.errors import ConfigError
from tmax.harness.loop import HarnessConfig
from tmax.harnesses import NAMES as HARNESS_NAMES, OutsideConfig
from tmax.io import now_iso, read_json_or_none, write_json_atomic
from tmax.tasks import Task, load_task, resolve_task_dirs
from tmax.trial.harbor_job import JobRecord, is_old_tmax_job, job_config
from tmax.trial.harbor_result import agent_config, environment_config

class EvalConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tasks: list[str] = Field(description="Task dirs, folders of task dirs, globs, or dataset files (.txt/.json).")
    agent: str = Field("oracle", description="oracle | stepwise | noop | scripted (no model) or openai | hf | vllm (a model).")
    sandbox: str = Field("podman", description="Sandbox backend: podman | docker | bwrap | apptainer.")
    runs: int = Field(1, gt=0, description="Attempts at every task (runs), for mean ± SEM and pass@k.")
    concurrency: int = Field(4, gt=0, description="Trials at once.")
    jobs_dir: str = Field("jobs", description="Where job dirs go.")
    job_name: str | None = Field(None, description="Job dir name; reuse one to resume (default: a timestamp).")
    retry_errors: bool = Field(True, description="On resume, run errored trials again.")
    keep_agent_processes: bool = Field(False, description="Verify with the agent's processes still running "
                                       "(Harbor's semantics, for tests that probe services the agent left running). "
                                       "A process of the agent's can then forge the reward: for trusted agents only.")
    on_tampering: Literal["strict", "zero", "warn"] = Field(
        "zero", description="A program or start-up hook the verifier would run (bash, python3, the loader, "
        "sitecustomize, a pytest config at /) that the agent replaced, on a writable root (podman, docker): zero "
        "scores the trial 0 and warns of hooks installs also write (.pth, entry points); strict scores those 0 too "
        "(what RL uses); warn verifies anyway with a warning (tasks that must change system programs).")
    isolated_verifier: bool = Field(False, description="Run every verifier in a fresh sandbox over the agent's "
                                    "workspace (as a task's `[verifier] environment_mode = \"separate\"` does).")
    engine: EngineConfig = Field(default_factory=EngineConfig, description="The model, for model agents.")
    harness: HarnessConfig = Field(default_factory=HarnessConfig)
    harness_name: str = Field("tmax", description="Agent loop: tmax (tmax's harness) | mini-swe-agent | codex "
                              "(outside harnesses, tmax.harnesses; they need --agent hf or openai).")
    outside: OutsideConfig = Field(default_factory=OutsideConfig, description="Settings of the outside harnesses.")

    @field_validator("harness_name")
    @classmethod
    def _known_harness(cls, name: str) -> str:
        if name not in HARNESS_NAMES:
            raise ValueError(f"unknown harness {name!r}; choose one of: {', '.join(HARNESS_NAMES)}")
        return name

    @model_validator(mode="after")
    def _outside_needs_a_model(self) -> "EvalConfig":
        if self.harness_name != "tmax" and self.agent not in ("hf", "openai"):
            raise ValueError(f"the {self.harness_name} harness needs a model: --agent hf --model DIR (served by "
                             "tmax serve for the job) or --agent openai --model NAME --base-url URL, "
                             f"not --agent {self.agent}")
        return self


def trial_names(tasks: list[Task]) -> dict[Path, str]:
    """Each task's trial-name stem: its name, or -- when two different tasks of the job share a
    name -- the name and a short hash of its path, so neither overwrites the other's trials
    (and a resumed job finds them again)."""
    counts = Counter(t.short_name for t in tasks)  # a [task].name's `org/` would nest the dir
    return {t.path: t.short_name if counts[t.short_name] == 1 else
            f"{t.short_name}-{hashlib.sha256(str(t.path.resolve()).encode()).hexdigest()[:8]}" for t in tasks}


def trial_name(stem: str, run: int) -> str:
    return f"{stem}__r{run}"


def _finished(trial_dir: Path, retry_errors: bool) -> bool:
    result = read_json_or_none(trial_dir / "result.json")
    return isinstance(result, dict) and not (retry_errors and result.get("exception_info"))


def _uses_model(cfg: EvalConfig) -> bool:
    from tmax.trial.agents import agent_kind

    return agent_kind(cfg.agent).uses_model


def _identity(cfg: EvalConfig) -> dict:
    model = cfg.engine.model if _uses_model(cfg) else None
    return {"agent": cfg.agent, "model": model, "harness": cfg.harness_name}


def _open_job(cfg: EvalConfig, tasks: list[Task], job_dir: Path) -> tuple[Path, dict]:
    job_file = job_dir / "job.json"
    old: dict = {}
    if is_old_tmax_job(job_dir):
        raise ConfigError(f"{job_dir} was written by an older tmax (job.json but no Harbor config.json)",
                          where="--job-name", fix="resume it with the tmax that wrote it, or start a new job name "
                          "(`tmax report` still reads the old dir)")
    if job_file.exists():
        old = json.loads(job_file.read_text())
        if {"harness": "tmax", **{k: old.get(k) for k in ("agent", "model", "harness") if k in old}} != _identity(cfg):
            raise ConfigError(f"{job_dir} holds a job of agent {old.get('agent')!r} / model {old.get('model')!r} / "
                              f"harness {old.get('harness', 'tmax')!r}", where="--job-name",
                              fix="resume with the same agent, model and harness, or pick a new job name")
    job_dir.mkdir(parents=True, exist_ok=True)
    job = {"tool": "tmax", "kind": "eval", **_identity(cfg), "engine": cfg.agent if _uses_model(cfg) else None,
           "runs": cfg.runs, "tasks": [str(t.path) for t in tasks], "config": cfg.model_dump(mode="json"),
           "started_at": old.get("started_at") or now_iso(), "resumed_at": now_iso() if old else None,
           "finished_at": None}
    write_json_atomic(job_file, job)
    return job_dir, job


def make_agent(cfg: EvalConfig, endpoint=None) -> tuple[Callable, dict | None]:
    """The agent function and the model_info for result.json. An outside harness talks to
    ``endpoint`` (``tmax.eval.endpoint.model_endpoint``)."""
    from tmax.trial.agents import agent_kind

    name = cfg.engine.model if cfg.agent == "openai" else Path(cfg.engine.model).name  # a dir: its name
    if cfg.harness_name != "tmax":
        from tmax.harnesses import make_harness_agent

        agent = make_harness_agent(cfg.harness_name, endpoint, cfg.outside, cfg.engine.sampling)
        return agent, {"name": name, "provider": cfg.agent if cfg.agent == "openai" else "tmax serve"}
    kind = agent_kind(cfg.agent)
    agent = kind.make(cfg.harness, cfg.engine)
    if not kind.uses_model:
        return agent, None
    return agent, {"name": name, "provider": cfg.agent}


def run_eval(cfg: EvalConfig, *, on_trial: Callable | None = None) -> Path:
    """Run (or resume) the job; returns the job dir, whose job.json then holds the job's metrics
    (``tmax.eval.report.summarize``). ``on_trial(summary, n_done, n_total)`` is called after
    each trial (progress bars)."""
    from tmax.eval.endpoint import model_endpoint
    from tmax.eval.report import load_job, summarize
    from tmax.sandbox import BACKENDS
    from tmax.trial import run_trial

    if cfg.sandbox not in BACKENDS:
        raise ConfigError(f"unknown sandbox {cfg.sandbox!r}", where="--sandbox", fix=f"choose one of: {', '.join(BACKENDS)}")
    tasks = [load_task(p) for p in resolve_task_dirs(cfg.tasks)]
    if not tasks:
        raise ConfigError("no tasks to run", where="TASKS", fix="pass task dirs, folders of them, globs or a dataset file")
    job_dir = Path(cfg.jobs_dir) / (cfg.job_name or datetime.now().strftime("%Y-%m-%d__%H-%M-%S"))
    stems = trial_names(tasks)
    todo = [(t, r) for r in range(cfg.runs) for t in tasks
            if not _finished(job_dir / trial_name(stems[t.path], r), cfg.retry_errors)]
    outside = cfg.harness_name != "tmax"
    with model_endpoint(cfg) if outside and todo else contextlib.nullcontext() as endpoint:
        agent, model_info = make_agent(cfg, endpoint) if todo or not outside else (None, None)
        job_dir, job = _open_job(cfg, tasks, job_dir)
        agent_name = cfg.agent if cfg.harness_name == "tmax" else cfg.harness_name
        record = JobRecord(job_dir, job_config(job_dir, tasks=[t.path for t in tasks], n_attempts=cfg.runs,
                                               n_concurrent=cfg.concurrency, agent=agent_config(agent_name, model_info),
                                               environment=environment_config(cfg.sandbox)),
                           n_total_trials=len(tasks) * cfg.runs)
        previous = {trial_name(stems[t.path], r): read_json_or_none(job_dir / trial_name(stems[t.path], r) / "result.json")
                    for t, r in todo}  # retried trials: their old results leave the job's stats
        job.update(n_trials=len(tasks) * cfg.runs, n_skipped=len(tasks) * cfg.runs - len(todo))
        write_json_atomic(job_dir / "job.json", job)
        with ThreadPoolExecutor(cfg.concurrency) as pool:
            futures = [pool.submit(run_trial, t, job_dir, agent=agent, backend=cfg.sandbox,
                                   trial_name=trial_name(stems[t.path], r), agent_name=agent_name,
                                   model_info=model_info, run=r, keep_agent_processes=cfg.keep_agent_processes,
                                   on_tampering=cfg.on_tampering, isolated_verifier=cfg.isolated_verifier,
                                   job_id=record.id) for t, r in todo]
            for n, future in enumerate(as_completed(futures), 1):
                summary = future.result()
                record.add(read_json_or_none(summary.trial_dir / "result.json"), previous[summary.trial_dir.name])
                if on_trial:
                    on_trial(summary, n, len(todo))
        record.finish()
    [summary] = summarize([load_job(job_dir)])  # every trial of the job, this invocation's and earlier ones
    job.update(finished_at=now_iso(), metrics=summary.to_dict())
    write_json_atomic(job_dir / "job.json", job)
    return job_dir
