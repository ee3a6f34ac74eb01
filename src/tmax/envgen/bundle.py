"""A generated task before it is a directory (``TaskParts``), and writing it as a Harbor task dir.

Every generated task has the same shape::

    <name>/
        task.toml              [metadata]: domain, family, difficulty, the sampled axes, seed
        instruction.md
        environment/Dockerfile FROM the local base; COPY app/ /app/ when there are fixtures
        environment/app/...    fixtures (the agent's starting files)
        tests/test.sh          runs tests/test_task.py, which grades with tests/tmax_verify.py
        tests/test_task.py
        tests/tmax_verify.py   the grading library (tmax/envgen/tmax_verify.py), copied verbatim
        solution/solve.sh      the reference solution
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from tmax.sandbox.images import BASE_IMAGE

GRADING_LIB = Path(__file__).with_name("tmax_verify.py")  # the grading library, as tasks import it

TEST_SH = """#!/bin/bash
# Grades the task and writes /logs/verifier/reward.json (see tmax_verify.py).
mkdir -p /logs/verifier
cd /tests && python3 /tests/test_task.py
"""


@dataclass
class TaskParts:
    """What a family returns. ``files`` paths are relative to the task dir; fixtures go under
    ``environment/app/`` (copied to /app in the image)."""

    instruction: str
    test: str                      # python source of tests/test_task.py (uses tmax_verify.Grader)
    solution: str                  # bash source of solution/solve.sh
    files: dict[str, str | bytes] = field(default_factory=dict)
    dockerfile_extra: str = ""     # RUN lines after the COPY (compile, strip, chmod, ...)
    knobs: dict = field(default_factory=dict)  # the difficulty knobs' values
    agent_timeout_sec: float = 600.0
    verifier_timeout_sec: float = 120.0
    allow_internet: bool = False


def dockerfile_for(parts: TaskParts) -> str:
    has_app = any(p.startswith("environment/app/") for p in parts.files)
    lines = [f"FROM {BASE_IMAGE}", "WORKDIR /app"]
    if has_app:
        lines.append("COPY app/ /app/")
    if parts.dockerfile_extra.strip():
        lines.append(parts.dockerfile_extra.strip())
    return "\n".join(lines) + "\n"


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def task_toml(parts: TaskParts, metadata: dict) -> str:
    lines = ['version = "1.0"', "", "[metadata]"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in metadata.items() if not isinstance(value, dict)]
    for key, table in ((k, v) for k, v in metadata.items() if isinstance(v, dict)):
        lines += ["", f"[metadata.{key}]"] + [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    lines += ["", "[verifier]", f"timeout_sec = {parts.verifier_timeout_sec!r}", "",
              "[agent]", f"timeout_sec = {parts.agent_timeout_sec!r}", "",
              "[environment]", "build_timeout_sec = 600.0", "cpus = 1", 'memory = "2G"',
              f"allow_internet = {_toml_value(parts.allow_internet)}", ""]
    return "\n".join(lines)


def write_files(files: dict[str, str | bytes], out_dir: Path) -> Path:
    """Write a task dir from relative paths -> contents atomically (``.partial`` renamed at the
    end); ``*.sh`` files are made executable."""
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    for rel, content in files.items():
        path = tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        if rel.endswith(".sh"):
            path.chmod(0o755)
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return out_dir


def write_task(parts: TaskParts, out_dir: Path, metadata: dict) -> Path:
    """Write a family's task as a Harbor task dir (see the module docstring)."""
    solution = parts.solution if parts.solution.startswith("#!") else "#!/bin/bash\nset -e\n" + parts.solution
    return write_files({
        "task.toml": task_toml(parts, metadata),
        "instruction.md": parts.instruction.strip() + "\n",
        "environment/Dockerfile": dockerfile_for(parts),
        "tests/test.sh": TEST_SH,
        "tests/test_task.py": parts.test,
        "tests/tmax_verify.py": GRADING_LIB.read_text(),
        "solution/solve.sh": solution,
        **parts.files,
    }, out_dir)
