"""Running the real `harbor` CLI (from .venv-harbor) over this checkout's tmax, and reading its jobs."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def harbor_env() -> dict[str, str]:
    """Harbor's process imports this checkout's tmax; litellm (imported by harbor) stays offline."""
    return {**os.environ, "PYTHONPATH": str(ROOT / "src"), "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "NO_COLOR": "1", "COLUMNS": "200"}


def harbor(python: str, *args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    exe = str(Path(python).parent / "harbor")
    return subprocess.run([exe, *args], cwd=cwd, env=harbor_env(), capture_output=True, text=True, timeout=timeout)


def harbor_run(python: str, jobs: Path, job: str, *args: str) -> dict[str, dict]:
    """``harbor run`` as a user types it; every trial's result.json by task name."""
    done = harbor(python, "run", "-o", str(jobs), "--job-name", job, "-y", "-q", *args, cwd=jobs.parent)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    trials = {}
    for result in sorted((jobs / job).glob("*/result.json")):
        data = json.loads(result.read_text())
        trials[data["task_name"]] = data
    return trials


def reward(trial: dict) -> float | None:
    return ((trial.get("verifier_result") or {}).get("rewards") or {}).get("reward")


def failure(trial: dict) -> str:
    info = trial.get("exception_info") or {}
    return f"{info.get('exception_type')}: {info.get('exception_message', '')[:1500]}" if info else ""
