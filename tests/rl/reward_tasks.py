"""Tasks whose verifier ignores the agent and writes a set reward: RL mechanics (staleness,
active sampling, weight sync) on an untrained model need groups whose rewards differ, or are
forced to be all equal, whatever the model does."""

from __future__ import annotations

from pathlib import Path

REWARDS = {
    "coin": "echo $((RANDOM % 2))",                     # 0 or 1: a group of 4 is informative 7 times in 8
    "noise": "printf '0.%05d\\n' $((RANDOM % 100000))",  # a fresh fraction per episode: always informative
    "flat": "echo 0.5",                                 # every episode the same: never informative
}


def reward_task(root: Path, name: str, kind: str) -> Path:
    """A Harbor task dir ``root/name`` on the local base image whose reward is ``REWARDS[kind]``."""
    task = root / name
    (task / "environment").mkdir(parents=True)
    (task / "environment" / "Dockerfile").write_text("FROM debian:bookworm\n")
    (task / "task.toml").write_text('version = "1.0"\n[verifier]\ntimeout_sec = 60.0\n[agent]\ntimeout_sec = 120.0\n')
    (task / "instruction.md").write_text("Print hello.\n")
    (task / "tests").mkdir()
    (task / "tests" / "test.sh").write_text(f"#!/bin/bash\nmkdir -p /logs/verifier\n{REWARDS[kind]} > "
                                           "/logs/verifier/reward.txt\n")
    (task / "solution").mkdir()
    (task / "solution" / "solve.sh").write_text("echo hello\n")
    return task
