"""A disk quota for rootfs sandboxes: their writable dirs on a loop-mounted ext4 filesystem of
the task's ``storage_mb``.

Writes past the size fail inside the sandbox with ENOSPC, and the host loses at most that much
(the image file is sparse: it costs what was written). One empty filesystem image per size is
made once in the cache (``mkfs.ext4``); each sandbox gets a sparse copy of it (~20 ms) and a
loop mount (~40 ms). Needs root (mount) and loop devices; where either is missing the sandbox
runs without a quota and its ``limits`` say so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tmax.errors import SandboxError
from tmax.io import file_lock
from tmax.sandbox.base import cache_dir


def unavailable() -> str | None:
    """Why no quota can be made here, or None."""
    if os.geteuid() != 0:
        return "not root (mounting the quota filesystem needs it)"
    if not Path("/dev/loop-control").exists():
        return "no loop devices"
    if not shutil.which("mkfs.ext4"):
        return "mkfs.ext4 missing (apt-get install e2fsprogs)"
    return None


def _template(size_mb: int) -> Path:
    image = cache_dir() / "disk" / f"ext4-{size_mb}m.img"
    if image.exists():
        return image
    with file_lock(image.with_suffix(".lock")):
        if not image.exists():
            tmp = image.with_suffix(".partial")
            subprocess.run(["truncate", "-s", f"{size_mb}M", str(tmp)], check=True)
            proc = subprocess.run(["mkfs.ext4", "-q", "-F", "-O", "^has_journal", "-m", "0",
                                   "-E", "lazy_itable_init=1,nodiscard", str(tmp)], capture_output=True, text=True)
            if proc.returncode != 0:
                raise SandboxError(f"mkfs.ext4 failed: {proc.stderr.strip()}", where="sandbox disk quota")
            tmp.rename(image)
    return image


class DiskQuota:
    """``mount_at`` becomes an empty ext4 filesystem of ``size_mb``; ``remove()`` undoes it."""

    def __init__(self, mount_at: Path, size_mb: int):
        self.mount_at, self.image = mount_at, mount_at.with_name(mount_at.name + ".img")
        subprocess.run(["cp", "--sparse=always", str(_template(size_mb)), str(self.image)], check=True)
        mount_at.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(["mount", "-o", "loop,nosuid,nodev", str(self.image), str(mount_at)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            self.image.unlink(missing_ok=True)
            raise SandboxError(f"could not mount the disk quota: {proc.stderr.strip()}", where="sandbox disk quota",
                               fix="check loop devices (`losetup -f`), or run without a storage limit")
        self.mounted = True

    def remove(self) -> None:
        if self.mounted:
            if subprocess.run(["umount", str(self.mount_at)], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", str(self.mount_at)], capture_output=True)
            self.mounted = False
        self.image.unlink(missing_ok=True)


def unmount_stale(mount_at: Path) -> None:
    """Undo a quota a killed process left mounted (``tmax sandbox prune``)."""
    if os.path.ismount(mount_at):
        subprocess.run(["umount", "-l", str(mount_at)], capture_output=True)
