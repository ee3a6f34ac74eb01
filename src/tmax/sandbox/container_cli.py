"""How to call the container CLI on this host.

Podman's defaults fail on some hosts: crun cannot handle hybrid cgroup v1/v2 hierarchies,
and the systemd cgroup manager needs systemd as PID 1. When runc is installed and systemd is
not running we pass ``--runtime runc --cgroup-manager cgroupfs``. ``TMAX_PODMAN_ARGS``
(space separated) replaces that choice on machines that need something else.

Every podman call of tmax also names tmax's own store (``podman_store``: a loop-mounted btrfs
where each container's disk use has a quota), unless it is unavailable here or
``TMAX_PODMAN_ARGS`` names a ``--root`` of its own.
"""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path

from tmax.sandbox import hosttools, podman_store


@functools.cache
def engine_argv(engine: str) -> tuple[str, ...]:
    if engine != "podman":
        return (engine,)
    override = os.environ.get("TMAX_PODMAN_ARGS")
    if override is not None:
        args = ["podman", *override.split()]
    else:
        args = ["podman"]
        runc = hosttools.which("runc")
        if runc:
            args += ["--runtime", runc]
        if not Path("/run/systemd/system").exists():
            args += ["--cgroup-manager", "cgroupfs"]
    if "--root" not in args and shutil.which("podman"):
        args += podman_store.store().args()
    return tuple(args)


def disk_quota(engine: str) -> bool:
    """Whether containers of ``engine`` get a disk total (they live in tmax's podman store)."""
    argv = engine_argv(engine)
    return engine == "podman" and podman_store.store_args_in(argv)
