"""Runs under Harbor's own interpreter (.venv-harbor, Python >= 3.12), never under tmax's:
validate every file tmax wrote with the `harbor` package's models and read the jobs the way
`harbor view` does. tests/harbor_support.py starts it and reads its JSON answer.

    python tests/harbor_check.py JOBS_DIR [--task TASK_DIR ...]

Prints one JSON object: per file, "ok" or Harbor's validation error; the viewer's job list and
each job's trial list (through the viewer app's HTTP API, as the browser calls it); per task
dir, Harbor's checksum.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

from harbor.models.job.config import JobConfig
from harbor.models.job.result import JobResult
from harbor.models.trajectories import Trajectory
from harbor.models.trial.config import TrialConfig
from harbor.models.trial.result import TrialResult

MODELS = {"job config": JobConfig, "job result": JobResult, "trial config": TrialConfig,
          "trial result": TrialResult, "trajectory": Trajectory}


def check(model, path: Path) -> str:
    try:
        model.model_validate_json(path.read_text())
        return "ok"
    except Exception as exc:  # the error text is the answer
        return f"{type(exc).__name__}: {exc}"


def files(jobs_dir: Path) -> dict[str, dict]:
    found = {}
    for job in sorted(d for d in jobs_dir.iterdir() if d.is_dir()):
        found[str(job / "config.json")] = {"kind": "job config"}
        found[str(job / "result.json")] = {"kind": "job result"}
        for trial in sorted(d for d in job.iterdir() if d.is_dir()):
            found[str(trial / "config.json")] = {"kind": "trial config"}
            found[str(trial / "result.json")] = {"kind": "trial result"}
            if (trial / "agent" / "trajectory.json").exists():
                found[str(trial / "agent" / "trajectory.json")] = {"kind": "trajectory"}
    for path, entry in found.items():
        entry["status"] = check(MODELS[entry["kind"]], Path(path)) if Path(path).exists() else "missing"
    return found


def viewer(jobs_dir: Path) -> dict:
    """What `harbor view JOBS_DIR` serves: its app's job list and each job's trials."""
    from starlette.testclient import TestClient

    from harbor.viewer.server import create_app

    client = TestClient(create_app(jobs_dir))
    jobs = client.get("/api/jobs").json()["items"]
    out = {"jobs": jobs, "trials": {}, "trajectories": {}}
    for job in jobs:
        trials = client.get(f"/api/jobs/{job['name']}/trials").json()["items"]
        out["trials"][job["name"]] = trials
        for trial in trials:
            detail = client.get(f"/api/jobs/{job['name']}/trials/{trial['name']}")
            trajectory = client.get(f"/api/jobs/{job['name']}/trials/{trial['name']}/trajectory")
            out["trajectories"][f"{job['name']}/{trial['name']}"] = {"detail_status": detail.status_code,
                                                  "trajectory_steps": len((trajectory.json() or {}).get("steps", []))}
    return out


def checksums(task_dirs: list[str]) -> dict[str, str]:
    from harbor.models.task.task import Task

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return {d: Task(Path(d)).checksum for d in task_dirs}


def main(argv: list[str]) -> None:
    jobs_dir = Path(argv[0])
    tasks = [argv[i + 1] for i, a in enumerate(argv) if a == "--task"]
    print(json.dumps({"files": files(jobs_dir), "viewer": viewer(jobs_dir), "checksums": checksums(tasks)},
                     default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
