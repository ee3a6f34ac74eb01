"""What a separate verifier costs: generated tasks (which ask for one) against the same tasks with
the verifier in the agent's sandbox, oracle trials, interleaved, one run.

Usage: .venv/bin/python benchmarks/separate_verifier.py [--tasks 9] [--reps 3] [--backend bwrap]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from pathlib import Path

from tmax.envgen.procedural import generate
from tmax.tasks import load_task
from tmax.trial import run_trial


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=9)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--backend", default="bwrap")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tmax-bench-separate-"))
    separate = generate(args.tasks, work / "separate", seed=args.seed)
    shared = []
    for task_dir in separate:
        copy = shutil.copytree(task_dir, work / "shared" / task_dir.name)
        toml = copy / "task.toml"
        toml.write_text(toml.read_text().replace('environment_mode = "separate"\n', ""))
        shared.append(copy)
    tasks = {"shared": [load_task(d) for d in shared], "separate": [load_task(d) for d in separate]}
    for group in tasks.values():  # build and unpack the images first
        for task in group:
            run_trial(task, work / "warm", agent="oracle", backend=args.backend)
    times: dict[str, list[float]] = {k: [] for k in tasks}
    for _ in range(args.reps):
        for mode, group in tasks.items():  # interleaved against drift
            for task in group:
                summary = run_trial(task, work / "jobs", agent="oracle", backend=args.backend)
                assert summary.reward == 1.0, (task.name, summary.error)
                times[mode].append(summary.duration_s)
    base = statistics.median(times["shared"])
    for mode, values in times.items():
        p50 = statistics.median(values)
        print(f"{args.backend} {mode:9s} p50 {p50 * 1000:7.0f} ms  mean {statistics.mean(values) * 1000:7.0f} ms"
              f"  ({(p50 / base - 1) * 100:+.0f}% vs shared, {len(values)} trials)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
