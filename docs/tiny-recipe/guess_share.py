"""How often a policy skipped looking, per task kind, in an eval job of the tiny recipe.

A known-answer reference solution starts with ``ls /app`` (which reads the same in every
layout) and then writes an answer; a looking one starts by listing or running the thing the
task names. So an episode whose first command is ``ls /app`` is one that imitated the
known-answer solutions: it guesses. Prints, per kind, the share of such episodes and the mean
reward of each branch.

Usage: .venv/bin/python docs/tiny-recipe/guess_share.py RUN/jobs/eval-sft [RUN/jobs/eval-rl ...]
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path


def branches(job: Path) -> dict[str, dict[str, list[float]]]:
    """kind -> {"guess": rewards, "look": rewards} over the job's scored trials."""
    out: dict[str, dict[str, list[float]]] = defaultdict(lambda: {"guess": [], "look": []})
    for result in sorted(job.glob("*/result.json")):
        reward = ((json.loads(result.read_text()).get("verifier_result") or {}).get("rewards") or {}).get("reward")
        trajectory = result.parent / "agent" / "trajectory.json"
        if reward is None or not trajectory.exists():
            continue
        steps = json.loads(trajectory.read_text())["steps"]
        commands = [c.get("arguments", {}).get("command", "") for s in steps for c in s.get("tool_calls") or []]
        kind = result.parent.name.rsplit("__", 1)[0].rsplit("-", 2)[0]
        out[kind]["guess" if commands and commands[0].strip() == "ls /app" else "look"].append(float(reward))
    return out


def main() -> None:
    for arg in sys.argv[1:]:
        print(f"{arg}\n  kind           guess share   reward if guessing   reward if looking")
        total = {"guess": [], "look": []}
        for kind, b in sorted(branches(Path(arg)).items()):
            n = len(b["guess"]) + len(b["look"])
            mean = lambda xs: f"{sum(xs) / len(xs):.2f} (n={len(xs)})" if xs else "-"  # noqa: E731
            print(f"  {kind:14s} {len(b['guess']) / n:11.2f}   {mean(b['guess']):>18s}   {mean(b['look']):>17s}")
            for key in total:
                total[key] += b[key]
        n = len(total["guess"]) + len(total["look"])
        print(f"  {'all':14s} {len(total['guess']) / max(n, 1):11.2f}")


if __name__ == "__main__":
    main()
