"""Shared fixtures: real backends only. Tests skip, with the reason, where a backend is absent."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tmax.sandbox.images import BASE_IMAGE, base_rootfs, image_exists

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "tasks"
FIXTURES = ROOT / "tests" / "fixtures"


def podman_ready() -> str | None:
    """None when podman and the base image are usable, else why not."""
    if not shutil.which("podman"):
        return "podman is not installed (bash scripts/setup.sh installs it)"
    if not image_exists(BASE_IMAGE):
        return f"{BASE_IMAGE} is missing (run `tmax images bootstrap`)"
    return None


def bwrap_ready() -> str | None:
    if not shutil.which("bwrap"):
        return "bubblewrap is not installed (bash scripts/setup.sh installs it)"
    if not (base_rootfs() / "usr/bin/python3").exists():
        return "base rootfs is missing (run `tmax images bootstrap`)"
    return None


@pytest.fixture
def podman_image() -> str:
    reason = podman_ready()
    if reason:
        pytest.skip(reason)
    return BASE_IMAGE


@pytest.fixture
def rootfs() -> Path:
    reason = bwrap_ready()
    if reason:
        pytest.skip(reason)
    return base_rootfs()


@pytest.fixture(scope="session")
def tiny_model_dir() -> Path:
    """The cached tiny Qwen3 model and its locally trained tokenizer (built on first use)."""
    pytest.importorskip("transformers")
    from tmax.engines.tiny import ensure_tiny_model

    return ensure_tiny_model()


@pytest.fixture(scope="session")
def tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.fixture(scope="session")
def vllm_python() -> str:
    """The interpreter with vLLM (.venv-vllm, $TMAX_VLLM_PYTHON, or this one); a failure, not a
    skip, where TMAX_VLLM=1 asked for it (CI)."""
    import os

    from tests.engines.vllm_support import HOW, find_vllm_python

    python = find_vllm_python()
    if python is None:
        if os.environ.get("TMAX_VLLM") == "1":
            pytest.fail(f"TMAX_VLLM=1 but no vLLM interpreter was found: {HOW}")
        pytest.skip(f"vLLM is not installed: {HOW}")
    return python


@pytest.fixture(scope="session")
def harbor() -> str:
    """Harbor's interpreter (.venv-harbor or $TMAX_HARBOR_PYTHON), for checks with its own models."""
    from tests.harbor_support import require_harbor

    return require_harbor()
