"""How to call the container CLI on this host.

Podman's defaults fail on some hosts: crun cannot handle hybrid cgroup v1/v2 hierarchies,
and the systemd cgroup manager needs systemd as PID 1. When runc is installed and systemd is
not running we pass ``--runtime runc --cgroup-manager cgroupfs``. ``TMAX_PODMAN_ARGS``
(space separated) replaces that choice on machines that need something else.
"""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path


@functools.cache
def engine_argv(engine: str) -> tuple[str, ...]:
    if engine != "podman":
        return (engine,)
    override = os.environ.get("TMAX_PODMAN_ARGS")
    if override is not None:
        return ("podman", *override.split())
    args = ["podman"]
    if shutil.which("runc"):
        args += ["--runtime", "runc"]
    if not Path("/run/systemd/system").exists():
        args += ["--cgroup-manager", "cgroupfs"]
    return tuple(args)
