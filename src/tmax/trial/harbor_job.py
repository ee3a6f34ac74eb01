"""A job's record in Harbor's shape: ``config.json`` (Harbor's ``JobConfig``) and ``result.json``
(Harbor's ``JobResult``) beside the trial dirs, so ``harbor view`` lists tmax's jobs.

``JobRecord`` writes both when a job opens (keeping the id and start time of a job it resumes,
its stats recounted from the trial dirs), adds each finished trial to the stats (a locked
read-modify-write of ``result.json``, safe across threads and across processes sharing the dir,
as RL rollout workers do; a trial run again in its old dir takes the old result back out) and,
at ``finish``, recounts the stats from every trial's ``result.json``. The stats are Harbor's ``JobStats``: trial and error counts, token totals, and per
agent/model/dataset key the trial count, errors by exception type and the mean reward
(Harbor's default metric; a trial without a reward counts 0). tmax's own job file, ``job.json``
(the resolved config and tmax's metrics), stays beside them.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

from tmax.io import file_lock, now_iso, read_json_or_none, write_json_atomic


def job_config(job_dir: Path, *, tasks: list[Path], n_attempts: int, n_concurrent: int, agent: dict,
               environment: dict) -> dict:
    """Harbor's ``JobConfig``: every trial's ``TrialConfig`` is this job's task x agent x environment."""
    job_dir = Path(job_dir).resolve()
    return {"job_name": job_dir.name, "jobs_dir": str(job_dir.parent), "n_attempts": n_attempts,
            "n_concurrent_trials": n_concurrent, "agents": [agent], "environment": environment,
            "tasks": [{"path": str(Path(t).resolve()), "source": None} for t in tasks]}


def _empty_stats() -> dict:
    return {"n_completed_trials": 0, "n_errored_trials": 0, "n_running_trials": 0, "n_pending_trials": 0,
            "n_cancelled_trials": 0, "n_retries": 0, "evals": {}, "n_input_tokens": None,
            "n_cache_tokens": None, "n_output_tokens": None, "cost_usd": None}


def _evals_key(result: dict) -> str:
    info = result.get("agent_info") or {}
    model = (info.get("model_info") or {}).get("name")
    dataset = result.get("source") or "adhoc"
    return f"{info.get('name')}__{model}__{dataset}" if model else f"{info.get('name')}__{dataset}"


def _reward(result: dict) -> float:
    rewards = (result.get("verifier_result") or {}).get("rewards") or {}
    value = result.get("reward", rewards.get("reward"))  # tmax's scalar (a multi-dimensional reward has no key)
    return float(value) if isinstance(value, (int, float)) else 0.0


def _counted(result: dict) -> bool:
    return isinstance(result, dict) and "agent_info" in result


def add_to_stats(stats: dict, result: dict, sign: int = 1) -> None:
    """Count one trial's ``result.json`` into Harbor-shaped ``JobStats`` (``sign=-1``: take a
    counted one back out, when its trial is run again and its dir overwritten)."""
    stats["n_completed_trials"] += sign
    entry = stats["evals"].setdefault(_evals_key(result), {"n_trials": 0, "n_errors": 0, "metrics": [],
                                                           "pass_at_k": {}, "reward_stats": {},
                                                           "exception_stats": {}})
    counted = entry["n_trials"] + entry["n_errors"]
    total = (entry["metrics"][0]["mean"] if entry["metrics"] else 0.0) * counted + sign * _reward(result)
    entry["metrics"] = [{"mean": total / (counted + sign)}] if counted + sign > 0 else []
    if (result.get("verifier_result") or {}).get("rewards"):
        entry["n_trials"] += sign
    error = result.get("exception_info")
    if isinstance(error, dict):
        names = entry["exception_stats"].setdefault(str(error.get("exception_type")), [])
        if sign > 0:
            names.append(result.get("trial_name"))
        elif result.get("trial_name") in names:
            names.remove(result.get("trial_name"))
        entry["n_errors"] += sign
        stats["n_errored_trials"] += sign
    usage = result.get("agent_result") or {}
    for key in ("n_input_tokens", "n_cache_tokens", "n_output_tokens"):
        if isinstance(usage.get(key), int):
            stats[key] = max(0, (stats[key] or 0) + sign * usage[key])


def _recount(job_dir: Path) -> dict:
    stats = _empty_stats()
    for path in sorted(job_dir.glob("*/result.json")):
        result = read_json_or_none(path)
        if _counted(result):
            add_to_stats(stats, result)
    return stats


class JobRecord:
    """The Harbor files of one job dir. ``n_total_trials`` None: an open-ended job (RL rollouts),
    whose total is the trials finished so far."""

    def __init__(self, job_dir: Path, config: dict, n_total_trials: int | None = None):
        self.job_dir, self.n_total = Path(job_dir), n_total_trials
        self.job_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        write_json_atomic(self.job_dir / "config.json", config)
        with self._locked():
            old = read_json_or_none(self.path)
            if not isinstance(old, dict) or "id" not in old:
                old = {"id": str(uuid.uuid4()), "started_at": now_iso()}
            self.id = old["id"]  # a resumed job keeps its id; its stats are recounted from the trial dirs
            self._write({**old, "stats": _recount(self.job_dir), "finished_at": None})

    @property
    def path(self) -> Path:
        return self.job_dir / "result.json"

    def _locked(self):
        return file_lock(self.job_dir / ".result.lock")

    def _write(self, data: dict) -> None:
        stats = data["stats"]
        total = self.n_total if self.n_total is not None else stats["n_completed_trials"]
        stats["n_pending_trials"] = max(0, total - stats["n_completed_trials"])
        write_json_atomic(self.path, {"id": data["id"], "started_at": data["started_at"], "updated_at": now_iso(),
                                      "finished_at": data.get("finished_at"), "n_total_trials": total,
                                      "stats": stats, "trial_results": []})

    def add(self, result: dict, previous: dict | None = None) -> None:
        """Count a finished trial (its ``result.json`` dict) into the job's stats; ``previous``:
        the result.json its trial dir held before (a retried or re-sampled trial), taken out."""
        if not _counted(result):
            return  # no readable result: finish() recounts from the files
        with self._lock, self._locked():
            data = read_json_or_none(self.path) or {"id": self.id, "started_at": now_iso(), "stats": _empty_stats()}
            if _counted(previous):
                add_to_stats(data["stats"], previous, sign=-1)
            add_to_stats(data["stats"], result)
            self._write(data)

    def finish(self) -> None:
        """Recount the stats from every trial dir's ``result.json`` and mark the job finished."""
        stats = _recount(self.job_dir)
        with self._lock, self._locked():
            data = read_json_or_none(self.path) or {"id": self.id, "started_at": now_iso()}
            self._write({**data, "stats": stats, "finished_at": now_iso()})


def is_old_tmax_job(job_dir: Path) -> bool:
    """A job dir that an older tmax wrote: ``job.json`` but no Harbor ``config.json``."""
    return (Path(job_dir) / "job.json").is_file() and not (Path(job_dir) / "config.json").is_file()

