"""What reward integrity costs a short trial: the same oracle trial with and without ending the
agent's processes before verification (``Sandbox.end_processes``, twice a trial) and the disk
quota, per backend, measured in one run.

Usage: .venv/bin/python benchmarks/verification.py [--trials 20] [--backends podman,bwrap]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from tmax.tasks import load_task
from tmax.trial import run_trial
from tmax.trial import runner


def make_task(root: Path) -> Path:
    (root / "environment").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "solution").mkdir()
    (root / "task.toml").write_text('version = "1.0"\n')
    (root / "instruction.md").write_text("Create /app/done.\n")
    (root / "environment" / "Dockerfile").write_text("FROM ubuntu:24.04\nWORKDIR /app\n")
    (root / "tests" / "test.sh").write_text("[ -f /app/done ] && echo 1 > /logs/verifier/reward.txt "
                                            "|| echo 0 > /logs/verifier/reward.txt\n")
    (root / "solution" / "solve.sh").write_text("touch /app/done\n")
    return root


def timed(task, backend: str, jobs: Path, n: int) -> list[float]:
    times = []
    for _ in range(n):
        started = time.monotonic()
        summary = run_trial(task, jobs, agent="oracle", backend=backend)
        assert summary.reward == 1.0, summary.error
        times.append(time.monotonic() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--backends", default="podman,bwrap")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tmax-bench-verify-"))
    task = load_task(make_task(work / "task"))
    spec_for = runner.spec_for
    for backend in args.backends.split(","):
        timed(task, backend, work / "warm", 2)  # build and unpack the image first
        rows = {}
        for mode in ("before", "after", "before", "after"):  # interleaved against drift
            if mode == "before":  # no process ending, no disk quota: what a trial did without them
                runner.spec_for = lambda t: spec_for(t).model_copy(update={"storage_mb": None})
                patched = {cls: cls.end_processes for cls in _classes()}
                for cls in patched:
                    cls.end_processes = lambda self: None
            rows.setdefault(mode, []).extend(timed(task, backend, work / mode, args.trials // 2))
            if mode == "before":
                runner.spec_for = spec_for
                for cls, fn in patched.items():
                    cls.end_processes = fn
        before, after = statistics.median(rows["before"]), statistics.median(rows["after"])
        print(f"{backend}: short oracle trial p50 {before * 1000:.0f} ms before, {after * 1000:.0f} ms after "
              f"({(after / before - 1) * 100:+.1f}%), n={len(rows['after'])} each")


def _classes():
    from tmax.sandbox.apptainer import ApptainerSandbox
    from tmax.sandbox.bwrap import BwrapSandbox
    from tmax.sandbox.container import ContainerSandbox

    return [ContainerSandbox, BwrapSandbox, ApptainerSandbox]


if __name__ == "__main__":
    main()
