"""What tmax's podman store costs a sandbox: start (to the first command's output) and close,
p50 over N sandboxes, in tmax's store (per-container disk quota) and in podman's default store
(TMAX_PODMAN_STORE=off: no disk total), alternating so that load on the machine hits both.

Usage: .venv/bin/python benchmarks/podman_store.py [--n 20] [--rounds 2]
(the default store needs the base image too: `TMAX_PODMAN_STORE=off tmax images bootstrap`)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

ONE = """
import statistics, sys, time
from tmax.sandbox.base import SandboxSpec
from tmax.sandbox.container import ContainerSandbox
from tmax.sandbox.images import BASE_IMAGE
starts, closes = [], []
for _ in range(int(sys.argv[1])):
    t0 = time.perf_counter()
    box = ContainerSandbox(BASE_IMAGE, SandboxSpec(), label="bench")
    box.exec("echo ready")
    t1 = time.perf_counter()
    box.close()
    starts.append(t1 - t0)
    closes.append(time.perf_counter() - t1)
print(f"start p50 {1000 * statistics.median(starts):.0f} ms, close p50 {1000 * statistics.median(closes):.0f} ms"
      f" -- {box.limits['storage']}")
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    for _ in range(args.rounds):
        for store in ("off", os.environ.get("TMAX_PODMAN_STORE", "/var/lib/tmax/podman")):
            env = {**os.environ, "TMAX_PODMAN_STORE": store}
            out = subprocess.run([sys.executable, "-W", "ignore", "-c", ONE, str(args.n)], env=env,
                                 capture_output=True, text=True)
            print(f"{store:>22}: {out.stdout.strip() or out.stderr.strip()[-500:]}")
    print(f"load average: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
