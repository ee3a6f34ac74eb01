"""Generated tasks are Harbor tasks: every procedural family's task passes `harbor lint`'s default
rules (the real CLI from the harbor package) and names a public image, never tmax's local base."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.envgen.familycheck import build
from tmax.envgen.families import load_all
from tmax.sandbox.images import BASE_IMAGE


def _harbor_cli() -> Path:
    python = Path(os.environ.get("TMAX_HARBOR_PYTHON") or ROOT / ".venv-harbor" / "bin" / "python")
    cli = python.parent / "harbor"
    if not cli.exists():
        if os.environ.get("TMAX_HARBOR") == "1":
            pytest.fail(f"TMAX_HARBOR=1 but {cli} is missing")
        pytest.skip("the harbor package is not installed (scripts/setup-harbor.sh, or set TMAX_HARBOR_PYTHON)")
    return cli


def test_every_family_passes_harbor_lint_defaults(tmp_path):
    cli = _harbor_cli()
    dirs = [build(name, 4, 0, tmp_path) for name in sorted(load_all())]
    for task in dirs:
        dockerfile = (task / "environment" / "Dockerfile").read_text()
        assert dockerfile.startswith("FROM debian:bookworm-slim\n") and BASE_IMAGE not in dockerfile
    done = subprocess.run([str(cli), "lint", "--json", *map(str, dirs)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and json.loads(done.stdout) == [], done.stdout[-3000:] + done.stderr[-2000:]
    # the same rules do catch a task that shares the agent's sandbox (the old format)
    toml = dirs[0] / "task.toml"
    toml.write_text(toml.read_text().replace('environment_mode = "separate"\n', ""))
    again = subprocess.run([str(cli), "lint", "--json", str(dirs[0])], capture_output=True, text=True, timeout=300)
    assert [f["rule"] for f in json.loads(again.stdout)] == ["shared-verifier"]
