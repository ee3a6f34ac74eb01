"""Run a task's verifier exactly as Harbor does and read the reward.

1. Clear ``/logs/verifier`` and ``/tests`` (an agent must not be able to plant its own reward;
   its processes were ended before, so nothing can write there any more).
2. Upload ``tests/`` to ``/tests`` and, when the tests call a tool it stands in for (uv, uvx,
   pytest, curl, apt), the offline verifier layer to ``/opt/tmax-verifier`` (copying it costs
   ~0.25 s a trial, most of a short trial's time; tests in plain bash or python skip it).
3. Run ``bash /tests/test.sh`` in a fresh shell with the task's verifier timeout.
4. Read ``/logs/verifier/reward.json`` (flat dict) or ``/logs/verifier/reward.txt`` (one
   float). test.sh's exit code is ignored. Every key of reward.json is recorded
   (``VerifierResult.rewards``, Harbor's multi-dimensional reward); the scalar tmax trains on
   is Harbor's primary reward -- the ``reward`` key, else the only value -- clamped to [0, 1].
   With several keys and no ``reward`` Harbor names no primary reward (its metrics average
   each key on its own); tmax then trains on the mean of the keys, each clamped to [0, 1],
   and says so in the result's warnings.

Terminal-Bench 1 tasks (``run-tests.sh``, no reward file) are scored by the parser their
``task.yaml`` names (``pytest``: 1 when pytest's summary shows every test passed), with the
exit code as the fallback. Reward files are read whole up to 256 MB, through the sandbox
without following links; a reward outside [0, 1] is clamped and the warning kept. A timeout
or a missing/unreadable reward raises ``VerifierError``, which the trial runner scores 0 with
the reason: after an agent ran, it is a failure the agent can cause.
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
    warnings: list[str] = field(default_factory=list)
    """E.g. a reward outside [0, 1] that was clamped."""
    failure: dict | None = None
    """Set when the reward is 0 because of a failure the agent can cause (see ``tmax.trial.runner``)."""

    @classmethod
    def failed(cls, phase: str, exc: Exception) -> "VerifierResult":
        return cls(0.0, {"reward": 0.0}, source="agent-caused failure",
                   failure={"phase": phase, "type": type(exc).__name__, "message": str(exc)})


REWARD_FILE_LIMIT = 256 << 20
"""Reward files up to this size are read whole; a larger one is a verifier failure that says so."""


def _clamp(value: float, where: str, warnings: list[str]) -> float:
    if not math.isfinite(value):
        raise VerifierError(f"reward is {value}", where=where, fix="write a number between 0 and 1")
    if not 0.0 <= value <= 1.0:
        warnings.append(f"{where}: reward {value:g} is outside [0, 1]; clamped to {min(1.0, max(0.0, value)):g}")
    return min(1.0, max(0.0, value))


def parse_reward_json(text: str, where: str = "reward.json",
                      warnings: list[str] | None = None) -> tuple[float, dict[str, float]]:
    warnings = [] if warnings is None else warnings
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise VerifierError(f"not valid JSON: {exc}", where=where, fix='write e.g. {"reward": 1.0}') from exc
    if isinstance(data, (int, float)) and not isinstance(data, bool):
        return _clamp(float(data), where, warnings), {"reward": float(data)}
    if not isinstance(data, dict) or not data:
        raise VerifierError("expected a flat JSON object of numbers", where=where, fix='write e.g. {"reward": 1.0}')
    numbers = {k: float(v) for k, v in data.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    if not numbers:
        raise VerifierError(f"no number among {sorted(data)[:20]}", where=where, fix='write e.g. {"reward": 1.0}')
    return primary_reward(numbers, where, warnings), numbers


def primary_reward(numbers: dict[str, float], where: str = "rewards", warnings: list[str] | None = None) -> float:
    """The scalar of a reward dict (see the module docstring): ``reward``, else the only value,
    else the mean of the values, each clamped to [0, 1]."""
    warnings = [] if warnings is None else warnings
    if "reward" in numbers:
        return _clamp(numbers["reward"], where, warnings)
    if len(numbers) == 1:
        return _clamp(next(iter(numbers.values())), where, warnings)
    parts = [_clamp(v, f"{where} [{k}]", warnings) for k, v in numbers.items()]
    warnings.append(f"{where}: no `reward` key among {len(numbers)} keys; the scalar reward is their mean")
    return sum(parts) / len(parts)


def parse_reward_txt(text: str, where: str = "reward.txt", warnings: list[str] | None = None) -> float:
    try:
        value = float(text.strip())
    except ValueError as exc:
        raise VerifierError(f"not a number: {text.strip()[:80]!r}", where=where, fix="write one float, e.g. 1") from exc
    return _clamp(value, where, [] if warnings is None else warnings)


_PYTEST_SUMMARY = re.compile(r"^=*\s*(?P<body>\d+ \w+(?:, \d+ \w+)*) in [\d.]+s(?: \([^)]*\))?\s*=*\s*$", re.M)


def parse_pytest(output: str) -> float | None:
    """Terminal-Bench 1's pytest parser: 1 when pytest's last summary line shows tests that all
    passed, 0 when any failed or errored, None when there is no summary line to read."""
    found = list(_PYTEST_SUMMARY.finditer(output))
    if not found:
        return None
    counts = {m.group(2): int(m.group(1)) for m in re.finditer(r"(\d+) (\w+)", found[-1].group("body"))}
    if counts.get("failed") or counts.get("error") or counts.get("errors"):
        return 0.0
    return 1.0 if counts.get("passed") else 0.0


_LAYER_TOOLS = re.compile(r"\b(uvx?|pytest|curl|apt-get|apt|pip3?)\b")


def needs_layer(task: Task) -> bool:
    """Whether any text file the verifier uploads mentions a tool of the verifier layer."""
    for src, _ in task.verifier_uploads:
        files = [src] if Path(src).is_file() else [p for p in Path(src).rglob("*") if p.is_file()]
        for path in files:
            if path.stat().st_size < 1_000_000 and _LAYER_TOOLS.search(path.read_text(errors="replace")):
                return True
    return False


def _read(sandbox: Sandbox, path: str, out: Path) -> str | None:
    """A reward file's text (None if absent), read through the sandbox without following host
    links; copied into the trial's verifier dir."""
    fh = sandbox.open_file(path)
    if fh is None:
        return None
    with fh:
        data = fh.read(REWARD_FILE_LIMIT + 1)
    if len(data) > REWARD_FILE_LIMIT:
        raise VerifierError(f"{path} is larger than {REWARD_FILE_LIMIT >> 20} MB", where=path,
                            fix="write a reward file of a few bytes (a flat JSON object or one float)")
    out.write_bytes(data)
    return data.decode("utf-8", errors="replace")


# Where the verifier's own files go. Each is emptied before anything is uploaded: the agent
# could write all of them (bwrap keeps them writable, podman's root is), and the layer's bin/ is
# first on PATH and its user site is Python's (a planted ``python3`` or ``.pth`` would run as
# the tests).
VERIFIER_DIRS = ("/logs/verifier", "/tests", LAYER_PATH)


def _fresh_dirs(shell, task: Task, keep_tests: bool = False) -> None:
    dirs = " ".join(d for d in VERIFIER_DIRS if not (keep_tests and d == "/tests"))
    # in a subshell with the image's own PATH: the layer's bin/ is not to be trusted until emptied
    check = shell.run(f"(PATH=/usr/sbin:/usr/bin:/sbin:/bin; rm -rf {dirs} 2>/dev/null; mkdir -p {dirs} && "
                      f"for d in {dirs}; do [ -d \"$d\" ] && [ ! -L \"$d\" ] && [ -z \"$(ls -A \"$d\")\" ] "
                      f"|| {{ echo \"$d\"; exit 3; }}; done)", 60)
    if check.exit_code != 0:
        raise VerifierError(f"could not empty {check.output.strip() or dirs} before verifying",
                            where=f"{task.name}: verifier dirs",
                            fix="the agent left files there that cannot be removed; the trial scores 0")


def run_verifier(sandbox: Sandbox, task: Task, out_dir: Path) -> VerifierResult:
    """Verify the sandbox's current state (the agent's processes already ended); writes
    test-stdout.txt and the reward files to ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    env = {**verifier_env(), **task.config.verifier.env}
    if task.layout == "tb1":
        env.setdefault("TEST_DIR", "/tests")
    shell = sandbox.open_shell(env=env)
    # a verifier image built from tests/Dockerfile holds /tests itself (Harbor: bundled tests); that
    # sandbox is fresh, the agent never ran in it
    try:
        _fresh_dirs(shell, task, keep_tests=bool(task.verifier_env and task.verifier_env.tests_in_image))
        if needs_layer(task):
            sandbox.upload(prepare_layer(), LAYER_PATH)
        for src, dest in task.verifier_uploads:
            sandbox.upload(src, dest)
        result = shell.run(task.verifier_command, task.config.verifier.timeout_sec)
    finally:
        shell.close()
    (out_dir / "test-stdout.txt").write_text(result.output)
    if result.timed_out:
        raise VerifierError(f"verifier timed out after {task.config.verifier.timeout_sec:.0f}s",
                            where=f"{task.name}: {task.verifier_command}",
                            fix="raise [verifier] timeout_sec in task.toml or speed up the tests")
    sandbox.end_processes()  # nothing the tests started may write the reward after they ended
    return _reward(sandbox, task, out_dir, result, time.monotonic() - start)


def _reward(sandbox: Sandbox, task: Task, out_dir: Path, result, duration: float) -> VerifierResult:
    warnings: list[str] = []
    files = {name: _read(sandbox, f"/logs/verifier/{name}", out_dir / name)
             for name in ("reward.json", "reward.txt", "ctrf.json")}
    if files["reward.json"] is not None:
        reward, rewards = parse_reward_json(files["reward.json"], f"{task.name}: /logs/verifier/reward.json", warnings)
        source = "reward.json"
    elif files["reward.txt"] is not None:
        reward = parse_reward_txt(files["reward.txt"], f"{task.name}: /logs/verifier/reward.txt", warnings)
        rewards, source = {"reward": reward}, "reward.txt"
    elif task.layout == "tb1":
        parsed = parse_pytest(result.output) if task.parser_name == "pytest" else None
        reward = parsed if parsed is not None else (1.0 if result.exit_code == 0 else 0.0)
        rewards, source = {"reward": reward}, "pytest summary" if parsed is not None else "exit code"
    else:
        raise VerifierError("test.sh wrote no /logs/verifier/reward.txt or reward.json",
                            where=f"{task.name}: tests/test.sh",
                            fix="see verifier/test-stdout.txt; the script must write a reward file")
    if not (out_dir / "reward.txt").exists():
        (out_dir / "reward.txt").write_text(f"{reward}\n")
    return VerifierResult(reward, rewards, result.exit_code, duration, source, warnings)
