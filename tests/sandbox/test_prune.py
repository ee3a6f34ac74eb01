"""`tmax sandbox prune` and `tmax cache`: leftovers of a killed tmax process go, other live
processes' sandboxes stay; cached task rootfs dirs share the base's files and prune cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tmax.sandbox import bwrap, container
from tmax.sandbox.base import SandboxSpec

pytestmark = pytest.mark.podman

KILLED = textwrap.dedent("""
    import json, sys, time
    from tmax.sandbox.bwrap import BwrapSandbox
    from tmax.sandbox.container import ContainerSandbox
    from tmax.sandbox.images import base_rootfs
    b = BwrapSandbox(base_rootfs(), label="prune-victim")
    c = ContainerSandbox(sys.argv[1], label="prune-victim")
    groups = (b._dir / "cgroups").read_text().split() if (b._dir / "cgroups").exists() else []
    print(json.dumps({"dir": str(b._dir), "groups": groups, "container": c.container}), flush=True)
    time.sleep(600)
""")


def _exists(cli: list[str], name: str) -> bool:
    return subprocess.run([*cli, "container", "exists", name]).returncode == 0


def test_prune_removes_only_sandboxes_whose_process_is_gone(podman_image, rootfs):
    proc = subprocess.Popen([sys.executable, "-c", KILLED, podman_image], stdout=subprocess.PIPE, text=True)
    dead = json.loads(proc.stdout.readline())
    live_b = bwrap.BwrapSandbox(rootfs, label="prune-live")
    live_c = container.ContainerSandbox(podman_image, SandboxSpec(), label="prune-live")
    try:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert Path(dead["dir"]).exists()
        cli = live_c.cli
        assert _exists(cli, dead["container"])
        assert bwrap.prune() >= 1 and container.prune() >= 1
        assert not Path(dead["dir"]).exists() and not _exists(cli, dead["container"])
        assert not any(Path(g).exists() for g in dead["groups"])
        # the live ones (this process's) are untouched and still work
        assert live_b.exec("echo ok").output == "ok\n" and live_c.exec("echo ok").output == "ok\n"
    finally:
        live_b.close()
        live_c.close()


def test_task_rootfs_shares_the_base_files_and_prunes(podman_image, tmp_path, monkeypatch):
    from tmax.sandbox import cache, images

    (tmp_path / "Dockerfile").write_text(f"FROM {podman_image}\nRUN head -c 3000000 /dev/urandom > /added.bin\n")
    built = images.build_image("cache-test", tmp_path / "Dockerfile", tmp_path)
    try:
        rootfs = images.export_rootfs(built.tag)
        base_seen: set = set()
        cache.disk_usage([images.base_rootfs()], base_seen)
        adds = cache.disk_usage([rootfs], base_seen)
        assert 3_000_000 <= adds < 30 << 20  # what it adds, not another copy of the base (~650 MB)
        held = cache.hold(rootfs)
        assert rootfs not in [e.path for e in cache.prune(older_than_days=0)]  # in use: kept
        os.close(held)
        assert rootfs in [e.path for e in cache.prune(older_than_days=0)] and not rootfs.exists()
    finally:
        subprocess.run([*container.engine_argv("podman"), "rmi", "-f", built.tag], capture_output=True)
