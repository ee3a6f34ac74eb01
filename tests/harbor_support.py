"""Harbor's own interpreter for the interop tests: tmax runs on Python 3.11, the `harbor` package
needs >= 3.12, so it lives in a second venv (scripts/setup-harbor.sh makes `.venv-harbor`).
Tests run tests/harbor_check.py there as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HOW = "run `bash scripts/setup-harbor.sh` (makes .venv-harbor with harbor==0.25.0) or set TMAX_HARBOR_PYTHON"


def harbor_python() -> str | None:
    """$TMAX_HARBOR_PYTHON, else <repo>/.venv-harbor/bin/python, when it imports harbor."""
    python = os.environ.get("TMAX_HARBOR_PYTHON") or str(ROOT / ".venv-harbor" / "bin" / "python")
    if not Path(python).exists():
        return None
    ok = subprocess.run([python, "-c", "import harbor"], capture_output=True, timeout=120).returncode == 0
    return python if ok else None


def require_harbor() -> str:
    """The interpreter with harbor for the `harbor` fixture (tests/conftest.py): a skip with the
    way to install it, or a failure where TMAX_HARBOR=1 asked for it (CI)."""
    python = harbor_python()
    if python is None:
        if os.environ.get("TMAX_HARBOR") == "1":
            pytest.fail(f"TMAX_HARBOR=1 but no Python with the harbor package was found: {HOW}")
        pytest.skip(f"the harbor package is not installed: {HOW}")
    return python


def harbor_check(python: str, jobs_dir: Path, tasks: list[Path] = ()) -> dict:
    """tests/harbor_check.py's answer for everything under ``jobs_dir``."""
    args = [python, str(ROOT / "tests" / "harbor_check.py"), str(jobs_dir)]
    for task in tasks:
        args += ["--task", str(task)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def invalid(answer: dict) -> dict[str, str]:
    """Every file Harbor's models rejected (or that is missing), with the reason."""
    return {path: entry["status"] for path, entry in answer["files"].items() if entry["status"] != "ok"}
