"""A trial's record in Harbor's shape: ``config.json`` (Harbor's ``TrialConfig``) and
``result.json`` (Harbor's ``TrialResult``), as the ``harbor`` package (0.25) validates them.

Harbor's fields hold what Harbor means by them: ``task_id`` is the task dir (a local task),
``task_checksum`` the dirhash of the task dir as Harbor computes it, ``config`` the trial's
``TrialConfig`` (``agent`` an ``AgentConfig``: name, ``provider/model``), ``source`` the dataset
(``None``: tmax runs task dirs, Harbor's "adhoc"), ``agent_result`` an ``AgentContext`` (token
counts, ``rollout_details`` with the token ids and logprobs, tmax's agent facts in
``metadata``), ``verifier_result.rewards`` the rewards with ``reward`` clamped to [0, 1].

tmax's own facts stay beside them as top-level keys, which Harbor's models ignore: ``reward``
(None on an infrastructure error), ``run``, ``sandbox``, ``keep_agent_processes``,
``task_path``, ``layout`` (harbor | tb1), ``task_metadata``, ``environment`` (image, image
substitutions, build, the sandbox's ``limits``: what its backend enforced), ``agent_failure`` (why an agent-caused failure scored 0) and
``verifier_result``'s ``source`` (the reward's file), ``exit_code`` (test.sh's) and
``warnings`` (a clamped reward) beside Harbor's ``rewards``.
"""

from __future__ import annotations

import uuid
from functools import lru_cache
from pathlib import Path

import tmax
from tmax.io import now_iso, write_json_atomic
from tmax.tasks import Task

ENVIRONMENT_TYPES = {"podman": "podman", "docker": "docker", "apptainer": "singularity"}
"""tmax sandbox backend -> Harbor's ``EnvironmentType``; backends Harbor has no type for (bwrap)
are named by ``import_path`` (``tmax.sandbox:<backend>``) and in ``kwargs.tmax_backend``."""


def task_checksum(task_dir: Path) -> str:
    """The task dir's checksum as Harbor computes ``Task.checksum``: the sha256 dirhash of the
    whole dir, leaving out ``.harborignore`` files and what they exclude under ``tests/``,
    ``solution/`` and ``steps/*/{tests,solution}/``."""
    from dirhash import Filter, dirhash_impl

    root = Path(task_dir).resolve()
    ignored = _ignore_rules(root)

    class TaskFilter(Filter):
        def include(self, recursion_path) -> bool:
            relative = Path(recursion_path.relative)
            return relative.name != ".harborignore" and not _excluded(relative, root, ignored)

    return dirhash_impl(root, "sha256", filter_=TaskFilter())


_SCOPES = ("tests", "solution")


def _in_scope(relative: Path) -> bool:
    """Whether a path lies under the dirs whose ``.harborignore`` files Harbor applies."""
    parts = relative.parts
    return bool(parts) and (parts[0] in _SCOPES or (len(parts) >= 3 and parts[0] == "steps" and parts[2] in _SCOPES))


def _ignore_rules(root: Path) -> list[tuple[Path, object]]:
    """Each ``.harborignore`` in scope as (its dir relative to the task, a gitignore spec)."""
    from pathspec import GitIgnoreSpec

    rules = []
    for path in sorted(root.rglob(".harborignore")):
        directory = path.parent.relative_to(root)
        if _in_scope(directory / "x"):
            rules.append((directory, GitIgnoreSpec.from_lines(path.read_text().splitlines())))
    return rules


def _excluded(relative: Path, root: Path, rules: list) -> bool:
    if not rules or not _in_scope(relative):
        return False
    suffix = "/" if (root / relative).is_dir() else ""
    excluded = False
    for directory, spec in rules:  # outer dirs first; a deeper file's rules decide last
        if directory == Path(".") or relative.is_relative_to(directory):
            match = spec.check_file(relative.relative_to(directory).as_posix() + suffix)
            if match.include is not None:
                excluded = match.include
    return excluded


@lru_cache(maxsize=256)
def _checksum_cached(task_dir: str, stamp: tuple) -> str:
    return task_checksum(Path(task_dir))


def cached_checksum(task: Task) -> str:
    """``task_checksum``, computed once per state of the task dir (its files' count, total size
    and newest change: a stat walk per trial, the hashing only when something changed)."""
    path = Path(task.path).resolve()
    try:
        stats = [p.stat() for p in path.rglob("*")]
        stamp = (len(stats), sum(s.st_size for s in stats), max((s.st_mtime_ns for s in stats), default=0))
        return _checksum_cached(str(path), stamp)
    except (OSError, ValueError) as exc:  # an unreadable file: the trial still runs, the record says why
        return f"unavailable: {exc}"


def model_name(model_info: dict | None) -> str | None:
    """Harbor's ``AgentConfig.model_name``: ``provider/name``."""
    if not model_info or not model_info.get("name"):
        return None
    return f"{model_info['provider']}/{model_info['name']}" if model_info.get("provider") else model_info["name"]


def agent_config(agent_name: str, model_info: dict | None) -> dict:
    """Harbor's ``AgentConfig`` of a tmax agent (the same in the job's and each trial's config,
    as Harbor's resume compares them)."""
    return {"name": agent_name, "model_name": model_name(model_info)}


def environment_config(backend: str) -> dict:
    kind = ENVIRONMENT_TYPES.get(backend)
    return {"type": kind, "import_path": None if kind else f"tmax.harbor:{backend.capitalize()}",
            "kwargs": {"tmax_backend": backend}}


def trial_config(task: Task, job_dir: Path, trial_name: str, *, agent_name: str, model_info: dict | None,
                 backend: str, job_id: str | None = None) -> dict:
    """Harbor's ``TrialConfig`` of one tmax trial."""
    return {
        "task": {"path": str(Path(task.path).resolve()), "source": None},
        "trial_name": trial_name, "trials_dir": str(Path(job_dir).resolve()),
        "timeout_multiplier": 1.0,
        "agent": agent_config(agent_name, model_info), "environment": environment_config(backend),
        "job_id": job_id,
    }


def start_result(task: Task, trial_dir: Path, *, agent_name: str, model_info: dict | None, backend: str,
                 run: int | None, keep_agent_processes: bool, job_id: str | None = None,
                 harness: str = "tmax") -> dict:
    """Write the trial's ``config.json`` and return its ``result.json`` as it starts."""
    config = trial_config(task, trial_dir.parent, trial_dir.name, agent_name=agent_name, model_info=model_info,
                          backend=backend, job_id=job_id)
    write_json_atomic(trial_dir / "config.json", config)
    return {
        "id": str(uuid.uuid4()), "task_name": task.name, "trial_name": trial_dir.name,
        "trial_uri": trial_dir.resolve().as_uri(), "task_id": {"path": config["task"]["path"]},
        "source": None, "task_checksum": cached_checksum(task), "config": config,
        "agent_info": {"name": agent_name, "version": tmax.__version__,
                       "model_info": dict(model_info) if model_info else None},
        "agent_result": None, "verifier_result": None, "verifier_environment_mode": "shared",
        "exception_info": None, "started_at": now_iso(), "finished_at": None,
        "environment_setup": None, "agent_setup": None, "agent_execution": None, "verifier": None,
        # tmax's own facts (Harbor's models ignore these keys)
        "reward": None, "run": run, "harness": harness, "sandbox": backend, "keep_agent_processes": keep_agent_processes,
        "task_path": str(task.path), "layout": task.layout, "task_metadata": task.metadata,
        "environment": None,
    }


def agent_context(outcome) -> dict:
    """Harbor's ``AgentContext`` of an ``AgentOutcome``: token counts, the token record as
    ``rollout_details`` (``tmax.harness.atif.rollout_details``), the rest in ``metadata``."""
    from tmax.harness.atif import rollout_details

    record = getattr(outcome, "record", None)
    return {"n_input_tokens": outcome.n_input_tokens, "n_output_tokens": outcome.n_output_tokens,
            "rollout_details": [rollout_details(record)] if record is not None and record.ids else None,
            "metadata": {**outcome.metadata, "timed_out": outcome.timed_out, "exit_code": outcome.exit_code}}


def set_verdict(result: dict, verdict) -> None:
    """Record a ``VerifierResult``: Harbor's rewards (``reward`` clamped, as tmax scores it) and
    tmax's details beside them."""
    rewards = dict(verdict.rewards)
    if "reward" in rewards or not rewards:  # a multi-dimensional reward stays as written; tmax's scalar is "reward"
        rewards["reward"] = verdict.reward
    result["verifier_result"] = {"rewards": rewards,
                                 "source": verdict.source, "exit_code": verdict.exit_code, "warnings": verdict.warnings}
    result["reward"] = verdict.reward
    if verdict.failure:
        result["agent_failure"] = verdict.failure
