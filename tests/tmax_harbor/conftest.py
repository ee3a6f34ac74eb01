"""Tests of src/tmax/harbor/. The folder is not called tests/harbor: a package of that name would
shadow the harbor package for tests/harbor_check.py, which Harbor's Python runs from tests/.
The plugin tests need tmax importable in Harbor's venv (scripts/setup-harbor.sh installs it)."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.tmax_harbor.harbor_cli import harbor_env


@pytest.fixture(scope="session")
def harbor(harbor) -> str:
    """Harbor's interpreter, checked to import this checkout's tmax plugins (their dependencies)."""
    done = subprocess.run([harbor, "-c", "import tmax.harbor.environment, tmax.harbor.agent"], env=harbor_env(),
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        why = f"Harbor's venv cannot import tmax's plugins ({done.stderr.strip().splitlines()[-1:]}): " \
              "rerun `bash scripts/setup-harbor.sh` (installs tmax[harbor] there)"
        if os.environ.get("TMAX_HARBOR") == "1":
            pytest.fail(why)
        pytest.skip(why)
    return harbor
