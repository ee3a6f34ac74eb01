"""Run a task's verifier exactly as Harbor does and read the reward.

1. Clear ``/logs/verifier`` (an agent must not be able to plant its own reward).
2. Upload ``tests/`` to ``/tests`` and, when the tests call a tool it stands in for (uv, uvx,
   pytest, curl, apt), the offline verifier layer to ``/opt/tmax-verifier`` (copying it costs
   ~0.25 s a trial, most of a short trial's time; tests in plain bash or python skip it).
3. Run ``bash /tests/test.sh`` in a fresh shell with the task's verifier timeout.
4. Read ``/logs/verifier/reward.json`` (flat dict; its ``reward`` key, or its only value) or
   ``/logs/verifier/reward.txt`` (one float); clamp to [0, 1]. test.sh's exit code is ignored.

Terminal-Bench 1 tasks (``run-tests.sh``, no reward file) score 1 when the script exits 0.
A timeout or a missing/unreadable reward raises ``VerifierError``: an infrastructure
failure, recorded as an error and never as a reward of 0.
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from tmax.errors import VerifierError
from tmax.sandbox.base import Sandbox
from tmax.trial.layer import LAYER_PATH, prepare_layer, verifier_env
from tmax.tasks import Task


@dataclass
class VerifierResult:
    reward: float
    rewards: dict[str, float] = field(default_factory=dict)
    exit_code: int | None = None
    duration_s: float = 0.0
    source: str = ""
    """Which file (or the exit code) the reward came from."""


def _clamp(value: float, where: str) -> float:
    if not math.isfinite(value):
        raise VerifierError(f"reward is {value}", where=where, fix="write a number between 0 and 1")
    return min(1.0, max(0.0, value))


def parse_reward_json(text: str, where: str = "reward.json") -> tuple[float, dict[str, float]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise VerifierError(f"not valid JSON: {exc}", where=where, fix='write e.g. {"reward": 1.0}') from exc
    if isinstance(data, (int, float)) and not isinstance(data, bool):
        return _clamp(float(data), where), {"reward": float(data)}
    if not isinstance(data, dict) or not data:
        raise VerifierError("expected a flat JSON object of numbers", where=where, fix='write e.g. {"reward": 1.0}')
    numbers = {k: float(v) for k, v in data.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    if "reward" in numbers:
        return _clamp(numbers["reward"], where), numbers
    if len(numbers) == 1:
        return _clamp(next(iter(numbers.values())), where), numbers
    raise VerifierError(f"no `reward` key among {sorted(data)}", where=where,
                        fix="add a `reward` key holding the total")


def parse_reward_txt(text: str, where: str = "reward.txt") -> float:
    try:
        return _clamp(float(text.strip()), where)
    except ValueError as exc:
        raise VerifierError(f"not a number: {text.strip()[:80]!r}", where=where, fix="write one float, e.g. 1") from exc


_LAYER_TOOLS = re.compile(r"\b(uvx?|pytest|curl|apt-get|apt)\b")


def needs_layer(task: Task) -> bool:
    """Whether any text file the verifier uploads mentions a tool of the verifier layer."""
    for src, _ in task.verifier_uploads:
        files = [src] if Path(src).is_file() else [p for p in Path(src).rglob("*") if p.is_file()]
        for path in files:
            if path.stat().st_size < 1_000_000 and _LAYER_TOOLS.search(path.read_text(errors="replace")):
                return True
    return False


def run_verifier(sandbox: Sandbox, task: Task, out_dir: Path) -> VerifierResult:
    """Verify the sandbox's current state; writes test-stdout.txt and the reward files to ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    env = {**verifier_env(), **task.config.verifier.env}
    if task.layout == "tb1":
        env.setdefault("TEST_DIR", "/tests")
    shell = sandbox.open_shell(env=env)
    try:
        shell.run(f"rm -rf /logs/verifier /tests; mkdir -p /logs/verifier /tests {LAYER_PATH}", 60)
        if needs_layer(task):
            sandbox.upload(prepare_layer(), LAYER_PATH)
        for src, dest in task.verifier_uploads:
            sandbox.upload(src, dest)
        result = shell.run(task.verifier_command, task.config.verifier.timeout_sec)
        (out_dir / "test-stdout.txt").write_text(result.output)
        if result.timed_out:
            raise VerifierError(f"verifier timed out after {task.config.verifier.timeout_sec:.0f}s",
                                where=f"{task.name}: {task.verifier_command}",
                                fix="raise [verifier] timeout_sec in task.toml or speed up the tests")
        files = {name: shell.run(f"cat /logs/verifier/{name} 2>/dev/null", 60)
                 for name in ("reward.json", "reward.txt", "ctrf.json")}
        for name, read in files.items():
            if read.exit_code == 0:
                (out_dir / name).write_text(read.output)
    finally:
        shell.close()
    duration = time.monotonic() - start
    if files["reward.json"].exit_code == 0:
        reward, rewards = parse_reward_json(files["reward.json"].output, f"{task.name}: /logs/verifier/reward.json")
        source = "reward.json"
    elif files["reward.txt"].exit_code == 0:
        reward = parse_reward_txt(files["reward.txt"].output, f"{task.name}: /logs/verifier/reward.txt")
        rewards, source = {"reward": reward}, "reward.txt"
    elif task.layout == "tb1":
        reward = 1.0 if result.exit_code == 0 else 0.0
        rewards, source = {"reward": reward}, "exit code"
    else:
        raise VerifierError("test.sh wrote no /logs/verifier/reward.txt or reward.json",
                            where=f"{task.name}: tests/test.sh",
                            fix="see verifier/test-stdout.txt; the script must write a reward file")
    if not (out_dir / "reward.txt").exists():
        (out_dir / "reward.txt").write_text(f"{reward}\n")
    return VerifierResult(reward, rewards, result.exit_code, duration, source)
