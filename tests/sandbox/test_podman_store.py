"""tmax's podman store: a real btrfs file system on a loop device, real containers in it.

The disk-fill cases check what the issue asks: writes past ``storage_mb`` fail inside the
container, the host's disk (the store's file) grows by at most that much, and a second
container keeps working while the first one is full."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tmax.sandbox import podman_store
from tmax.sandbox.base import SandboxSpec

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def quota_box(podman_image):
    from tmax.sandbox.container import ContainerSandbox

    if podman_store.store().root is None:
        pytest.skip(f"tmax's podman store is unavailable here: {podman_store.store().why}")
    opened = []

    def factory(storage_mb):
        box = ContainerSandbox(podman_image, SandboxSpec(storage_mb=storage_mb, memory_mb=512), label="quota")
        opened.append(box)
        return box

    yield factory
    for box in opened:
        box.close()


def allocated(path: Path) -> int:
    os.sync()
    return path.stat().st_blocks * 512


def test_disk_fill_fails_inside_and_costs_the_host_at_most_the_limit(quota_box):
    image = podman_store.image_of(podman_store.store().root)
    full, other = quota_box(64), quota_box(64)
    assert full.limits["storage"] == "64 MB quota (btrfs qgroup)"
    before = allocated(image)
    out = full.exec("fallocate -l 50G /app/big; rm -f /app/big; "
                    "for i in $(seq 8); do head -c 32M /dev/urandom > /app/f$i || break; done; "
                    "sync; du -cm /app | tail -1").output
    assert "Disk quota exceeded" in out, out
    assert 32 <= int(out.split()[-2]) <= 64, out  # what the files hold: at most the limit
    grown = allocated(image) - before
    assert grown <= (64 + 16) << 20, f"the store's file grew by {grown >> 20} MB for a 64 MB quota"
    assert other.exec("head -c 16M /dev/zero > /app/x && echo ok").output.strip() == "ok"
    full.exec("rm -f /app/f*")  # freed space is the container's again
    assert full.exec("head -c 16M /dev/zero > /app/again && echo ok").output.strip() == "ok"


def test_freed_space_goes_back_to_the_host(quota_box):
    box = quota_box(256)
    box.exec("head -c 128M /dev/urandom > /app/f && sync && rm /app/f && sync")
    assert podman_store.trim(settle=False) >= 100 << 20  # the store's file shrank by what the container freed


def test_quota_holds_after_the_container_is_restarted(quota_box):
    box = quota_box(32)
    subprocess.run([*box.cli, "stop", "-t", "0", box.container], capture_output=True, check=True)
    box.end_processes()  # finds the container stopped: starts it again, same writable layer
    out = box.exec("head -c 64M /dev/zero > /app/f; du -m /app/f").output
    assert "Disk quota exceeded" in out and int(out.split()[-2]) <= 32, out


MOUNT = """
import sys
from pathlib import Path
from tmax.sandbox import podman_store
podman_store.mount(Path(sys.argv[1]), int(sys.argv[2]))
"""


def _mount_in_subprocess(root: Path, size: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-c", MOUNT, str(root), str(size)], capture_output=True, text=True,
                          env=env)


def _mounts_at(root: Path) -> int:
    return sum(line.split()[1] == str(root) for line in Path("/proc/self/mounts").read_text().splitlines())


def test_store_mounts_once_from_racing_processes_remounts_and_grows(tmp_path):
    if podman_store.unavailable() not in (None, "TMAX_PODMAN_STORE=off"):
        pytest.skip(f"no store can be made here: {podman_store.unavailable()}")
    root = tmp_path / "store"
    try:
        with ThreadPoolExecutor(4) as pool:
            runs = list(pool.map(lambda _: _mount_in_subprocess(root, 1 << 30), range(4)))
        assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
        assert _mounts_at(root) == 1
        kernel = tuple(int(x) for x in os.uname().release.split("-")[0].split(".")[:2])
        assert podman_store.quota_mode(root) == ("squota" if kernel >= (6, 7) else "qgroup")
        (root / "kept").write_text("survives")
        subprocess.run(["umount", str(root)], check=True)  # as after a reboot: the file is still there
        assert _mount_in_subprocess(root, 1 << 30).returncode == 0
        assert (root / "kept").read_text() == "survives" and _mounts_at(root) == 1
        small = os.statvfs(root).f_blocks * os.statvfs(root).f_frsize
        assert _mount_in_subprocess(root, 2 << 30).returncode == 0  # a bigger knob grows the store
        big = os.statvfs(root).f_blocks * os.statvfs(root).f_frsize
        assert big > small + (512 << 20) and podman_store.image_of(root).stat().st_size == 2 << 30
        assert podman_store.image_of(root).stat().st_blocks * 512 < 64 << 20  # sparse: no space taken
    finally:
        while _mounts_at(root):
            subprocess.run(["umount", str(root)], capture_output=True)


def test_store_off_falls_back_to_a_cap_per_file_and_says_why():
    code = ("from tmax.sandbox.container_cli import engine_argv, disk_quota; from tmax.sandbox import "
            "podman_store as s; print('--root' in engine_argv('podman'), disk_quota('podman'), s.store().why)")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "TMAX_PODMAN_STORE": "off"}
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.split(maxsplit=2) == ["False", "False", "TMAX_PODMAN_STORE=off\n"], out.stderr


def test_a_bad_size_knob_names_the_variable(monkeypatch):
    from tmax.errors import SandboxError

    monkeypatch.setenv("TMAX_PODMAN_STORE_GB", "lots")
    with pytest.raises(SandboxError, match="TMAX_PODMAN_STORE_GB"):
        podman_store.configured_bytes()


def test_usage_counts_what_the_store_takes_on_the_host(quota_box):
    """What `tmax cache sizes` shows for the store (the CLI itself walks the whole cache: slow)."""
    before = podman_store.usage()
    assert before["on_host"] >= 100 << 20 and before["used"] >= 100 << 20  # at least the base image
    box = quota_box(128)
    box.exec("head -c 64M /dev/urandom > /app/f && sync")
    after = podman_store.usage()
    assert after["used"] - before["used"] >= 60 << 20 and after["on_host"] - before["on_host"] <= 80 << 20
