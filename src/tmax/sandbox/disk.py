"""A disk quota for rootfs sandboxes: their writable dirs on a loop-mounted ext4 filesystem of
the task's ``storage_mb``.

Writes past the size fail inside the sandbox with ENOSPC, and the host loses at most that much:
the image file is sparse and mounted with ``discard``, so deleted files give their space back
to the host. One empty filesystem image per size is made once in the cache (``mkfs.ext4``).
Making and mounting a fresh copy costs ~60-100 ms, several times a short bwrap trial, so
filesystems are pooled per process: a sandbox takes a free one of its size, and on close its
files are deleted and the filesystem goes back to the pool (at most ``POOL_SIZE`` kept per
size; the rest are unmounted). A filesystem is only ever used by one sandbox at a time. Each
pooled mount lives in ``/tmp/tmax-disk-*`` with its owner's name, so ``tmax sandbox prune``
unmounts those of a killed process. Needs root (mount) and loop devices; where either is
missing the sandbox runs without a quota and its ``limits`` say so.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from tmax.errors import SandboxError
from tmax.io import file_lock
from tmax.sandbox import hosttools
from tmax.sandbox.base import cache_dir
from tmax.sandbox.procs import owner_alive, owner_token

POOL_SIZE = 32
_POOL: dict[int, list["Quota"]] = {}
_LOCK = threading.Lock()


def unavailable() -> str | None:
    """Why no quota can be made here, or None."""
    if os.geteuid() != 0:
        return "not root (mounting the quota filesystem needs it)"
    if not Path("/dev/loop-control").exists():
        return "no loop devices"
    if not hosttools.which("mkfs.ext4"):
        return "mkfs.ext4 missing (apt-get install e2fsprogs)"
    return None


def _template(size_mb: int) -> Path:
    image = cache_dir() / "disk" / f"ext4-{size_mb}m.img"
    if image.exists():
        return image
    with file_lock(image.with_suffix(".lock")):
        if not image.exists():
            tmp = image.with_suffix(".partial")
            subprocess.run([hosttools.tool("truncate"), "-s", f"{size_mb}M", str(tmp)], check=True)
            proc = subprocess.run([hosttools.tool("mkfs.ext4"), "-q", "-F", "-O", "^has_journal", "-m", "0",
                                   "-E", "lazy_itable_init=1,nodiscard", str(tmp)], capture_output=True, text=True)
            if proc.returncode != 0:
                raise SandboxError(f"mkfs.ext4 failed: {proc.stderr.strip()}", where="sandbox disk quota")
            tmp.rename(image)
    return image


class Quota:
    """One mounted filesystem of ``size_mb`` under ``/tmp/tmax-disk-*``."""

    def __init__(self, size_mb: int):
        self.size_mb, self.pid = size_mb, os.getpid()
        self.home = Path(tempfile.mkdtemp(prefix="tmax-disk-"))
        (self.home / "owner").write_text(owner_token())
        self.image, self.mount_at = self.home / "fs.img", self.home / "fs"
        self.mount_at.mkdir()
        subprocess.run(["cp", "--sparse=always", str(_template(size_mb)), str(self.image)], check=True)
        proc = subprocess.run([hosttools.tool("mount"), "-o", "loop,nosuid,nodev,discard", str(self.image),
                               str(self.mount_at)], capture_output=True, text=True)
        if proc.returncode != 0:
            shutil.rmtree(self.home, ignore_errors=True)
            raise SandboxError(f"could not mount the disk quota: {proc.stderr.strip()}", where="sandbox disk quota",
                               fix="check loop devices (`losetup -f`), or run without a storage limit")

    def destroy(self) -> None:
        unmount(self.home)


def unmount(home: Path) -> None:
    fs = home / "fs"
    if os.path.ismount(fs) and subprocess.run([hosttools.tool("umount"), str(fs)], capture_output=True).returncode != 0:
        subprocess.run([hosttools.tool("umount"), "-l", str(fs)], capture_output=True)
    shutil.rmtree(home, ignore_errors=True)


class DiskQuota:
    """A directory on a quota filesystem of ``size_mb`` for one sandbox; ``remove()`` deletes
    its files and hands the filesystem back to the pool."""

    def __init__(self, size_mb: int):
        with _LOCK:
            free = _POOL.get(size_mb) or []
            self.quota = free.pop() if free else None
        self.quota = self.quota or Quota(size_mb)
        self.path = self.quota.mount_at / secrets.token_hex(6)
        self.path.mkdir()

    def remove(self) -> None:
        if self.quota is None:
            return
        quota, self.quota = self.quota, None
        shutil.rmtree(self.path, ignore_errors=True)
        if any(p.name != "lost+found" for p in quota.mount_at.iterdir()):  # not all deleted: do not hand it on
            return quota.destroy()
        with _LOCK:
            free = _POOL.setdefault(quota.size_mb, [])
            if len(free) < POOL_SIZE:
                free.append(quota)
                return
        quota.destroy()


@atexit.register
def _drain() -> None:
    with _LOCK:
        pooled = [q for free in _POOL.values() for q in free]
        _POOL.clear()
    for quota in pooled:
        if quota.pid == os.getpid():  # a forked child exiting leaves its parent's mounts alone
            quota.destroy()


def prune() -> int:
    """Unmount and remove quota filesystems whose tmax process is gone."""
    removed = 0
    for home in Path(tempfile.gettempdir()).glob("tmax-disk-*"):
        owner = home / "owner"
        if home.is_dir() and owner.is_file() and not owner_alive(owner.read_text().strip()):
            unmount(home)
            removed += 1
    return removed
