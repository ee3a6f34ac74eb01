"""Sandbox latency figures (issue: Foundation), all measured in one run on this machine.

1. Start to first command output, per backend (p50 / p95 over --starts runs).
2. Per-command round trip: tmax's persistent shell vs a fresh `podman exec` per command
   (what Harbor and mini-swe-agent do) vs a fresh local `bash -c` (no sandbox at all).
3. 16 sandboxes started at once: wall time and per-sandbox start p50.

Usage: .venv/bin/python benchmarks/sandbox.py [--starts 20] [--commands 500] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from tmax.sandbox.base import SandboxSpec
from tmax.sandbox.container import ContainerSandbox
from tmax.sandbox.container_cli import engine_argv
from tmax.sandbox.images import BASE_IMAGE, base_rootfs


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def summary(values_s: list[float]) -> dict:
    ms = [v * 1000 for v in values_s]
    return {"p50_ms": round(pct(ms, 0.5), 3), "p95_ms": round(pct(ms, 0.95), 3), "n": len(ms)}


def backends() -> dict:
    made = {"podman": lambda: ContainerSandbox(BASE_IMAGE, SandboxSpec(), label="bench")}
    try:
        from tmax.sandbox.bwrap import BwrapSandbox
        made["bwrap"] = lambda: BwrapSandbox(base_rootfs(), SandboxSpec(), label="bench")
    except ImportError:
        pass
    return made


def start_latency(factory, n: int, close_each: bool = True) -> list[float]:
    """Start ``n`` sandboxes one after another. ``close_each``: close each before the next start
    (the kernel's teardown of the last one overlaps the next start, as in a busy trial loop);
    otherwise all stay open until the end (no teardown in flight)."""
    times, boxes = [], []
    for _ in range(n):
        t0 = time.perf_counter()
        box = factory()
        out = box.exec("echo ready").output
        times.append(time.perf_counter() - t0)
        assert out == "ready\n", out
        boxes.append(box)
        if close_each:
            box.close()
    for box in boxes:
        box.close()
    return times


def round_trips(n: int) -> dict:
    box = ContainerSandbox(BASE_IMAGE, SandboxSpec(), label="bench")
    try:
        persistent = []
        for _ in range(n):
            t0 = time.perf_counter()
            box.exec("true")
            persistent.append(time.perf_counter() - t0)
        fresh_exec = []
        for _ in range(max(n // 10, 10)):
            t0 = time.perf_counter()
            subprocess.run([*engine_argv("podman"), "exec", box.container, "true"], check=True)
            fresh_exec.append(time.perf_counter() - t0)
    finally:
        box.close()
    local = []
    for _ in range(max(n // 5, 20)):
        t0 = time.perf_counter()
        subprocess.run(["bash", "-c", "true"], check=True)
        local.append(time.perf_counter() - t0)
    res = {"persistent_shell": summary(persistent), "podman_exec_per_command": summary(fresh_exec),
           "local_bash_c": summary(local)}
    res["podman_exec_over_persistent_p50"] = round(res["podman_exec_per_command"]["p50_ms"]
                                                   / res["persistent_shell"]["p50_ms"], 1)
    return res


def concurrent_starts(factory, k: int = 16) -> dict:
    def one(_):
        t0 = time.perf_counter()
        box = factory()
        box.exec("echo ready")
        return time.perf_counter() - t0, box

    t0 = time.perf_counter()
    with ThreadPoolExecutor(k) as pool:
        results = list(pool.map(one, range(k)))
    wall = time.perf_counter() - t0
    for _, box in results:
        box.close()
    return {"wall_s": round(wall, 3), "start": summary([t for t, _ in results])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starts", type=int, default=20)
    parser.add_argument("--commands", type=int, default=500)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    report: dict = {"start_to_first_output": {}, "start_to_first_output_no_teardown": {}, "concurrent_16": {}}
    for name, factory in backends().items():
        factory().close()  # warm caches (image layers, rootfs pages)
        report["start_to_first_output"][name] = summary(start_latency(factory, args.starts))
        report["start_to_first_output_no_teardown"][name] = summary(start_latency(factory, args.starts, False))
        report["concurrent_16"][name] = concurrent_starts(factory)
    report["round_trip"] = round_trips(args.commands)
    print(json.dumps(report, indent=2))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=2)


if __name__ == "__main__":
    main()
