"""Cache cost of task images on bwrap: prepare (build + unpack) every task of a folder for the
bwrap backend and report what the cache holds before and after, with each inode counted once
(task rootfs dirs hard-link the files they share with the base rootfs). The baseline in the same
run: the bytes the same rootfs dirs would take as full copies (every file counted in each dir).

Usage: .venv/bin/tmax generate -n 100 --seed 0 -o /tmp/gen100
       .venv/bin/python benchmarks/cache.py /tmp/gen100
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from tmax.sandbox import cache
from tmax.sandbox.environment import prepare_environment
from tmax.tasks import load_task, resolve_task_dirs


def apparent(paths: list[Path]) -> int:
    """Bytes as full copies: every file counted in every dir that has it."""
    return sum(cache.disk_usage([p]) for p in paths)


def main() -> None:
    tasks = [load_task(p) for p in resolve_task_dirs(sys.argv[1:])]
    before = cache.sizes()
    started, rootfs = time.monotonic(), set()
    for i, task in enumerate(tasks, 1):
        rootfs.add(prepare_environment(task, "bwrap").rootfs)
        print(f"\r{i}/{len(tasks)} prepared", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    after = cache.sizes()
    shared = after["rootfs (task images)"] - before["rootfs (task images)"]
    print(f"{len(tasks)} tasks, {len(rootfs)} distinct images, prepared in {time.monotonic() - started:.0f} s")
    print(f"base rootfs: {after['rootfs (base)'] / 2**20:,.0f} MB")
    print(f"task rootfs dirs added: {shared / 2**20:,.0f} MB with hard links to the base "
          f"(as full copies: {apparent(sorted(rootfs)) / 2**20:,.0f} MB)")
    total = after["rootfs (base)"] + shared
    print(f"cache for these tasks including the base: {total / 2**30:.2f} GB (target <= 2 GB)")
    print(f"({os.environ.get('TMAX_CACHE', '~/.cache/tmax')})")


if __name__ == "__main__":
    main()
