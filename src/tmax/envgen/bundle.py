"""A generated task before it is a directory (``TaskParts``), and writing it as a Harbor task dir.

Every generated task has the same shape::

    <name>/
        task.toml              [metadata]: domain, family, difficulty, the sampled axes, seed;
                               a separate verifier over the workspace /app (artifacts)
        instruction.md
        environment/Dockerfile FROM debian:bookworm-slim plus the base's packages; COPY app/
                               /app/ when there are fixtures
        environment/app/...    fixtures (the agent's starting files)
        tests/test.sh          runs tests/test_task.py, which grades with tests/tmax_verify.py
        tests/test_task.py
        tests/tmax_verify.py   the grading library (tmax/envgen/tmax_verify.py), copied verbatim
        solution/solve.sh      the reference solution

The tasks are Harbor tasks that pass ``harbor lint``'s default rules and build without tmax:
the Dockerfile names a public image and installs what tmax's base has (a no-op on that base,
which tmax substitutes when the public image is absent: ``tmax.sandbox.images.ALIASES``);
the verifier runs in a fresh sandbox of the image with the agent's ``/app`` copied in
(``[verifier] environment_mode = "separate"``, ``artifacts = ["/app"]``), so nothing the
agent changed elsewhere reaches the tests. A family whose task changes files elsewhere names
them in ``TaskParts.artifacts``.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from tmax.sandbox.images import BASE_PACKAGES

PUBLIC_BASE = "debian:bookworm-slim"
"""What generated tasks build FROM (public; tmax resolves it to its offline base when absent)."""
WORKSPACE = "/app"
"""Where every generated task's outputs live: the separate verifier's view of the agent's work."""


def base_setup() -> str:
    """Dockerfile lines giving a public Debian image what tmax's base has (skipped where present)."""
    pkgs = " ".join(BASE_PACKAGES)
    return (f"ENV LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive\n"
            f"RUN if ! dpkg -s {pkgs} >/dev/null 2>&1; then \\\n"
            f"    apt-get update && apt-get install -y --no-install-recommends {pkgs} \\\n"
            f"    && rm -rf /var/lib/apt/lists/*; fi")

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
    artifacts: list[str] = field(default_factory=lambda: [WORKSPACE])
    """What the separate verifier gets from the agent's sandbox: /app, plus any system path the
    task has the agent change (a cron table, /etc/passwd)."""


def dockerfile_for(parts: TaskParts) -> str:
    has_app = any(p.startswith("environment/app/") for p in parts.files)
    lines = [f"FROM {PUBLIC_BASE}", base_setup(), f"WORKDIR {WORKSPACE}"]
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
    lines = ['version = "1.0"', f"artifacts = {_toml_value(parts.artifacts)}", "", "[metadata]"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in metadata.items() if not isinstance(value, dict)]
    for key, table in ((k, v) for k, v in metadata.items() if isinstance(v, dict)):
        lines += ["", f"[metadata.{key}]"] + [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    network = "public" if parts.allow_internet else "no-network"
    lines += ["", "[verifier]", f"timeout_sec = {parts.verifier_timeout_sec!r}", 'environment_mode = "separate"', "",
              "[agent]", f"timeout_sec = {parts.agent_timeout_sec!r}", "",
              "[environment]", "build_timeout_sec = 600.0", "cpus = 1", "memory_mb = 2048",
              f"network_mode = {_toml_value(network)}", ""]
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
