"""The host programs tmax runs itself to build sandboxes (mount, losetup, mkfs.*, btrfs, runc,
chroot, debootstrap): looked up on PATH and then in the system dirs, since a root-only tool
lives in an ``sbin`` dir that a PATH from cron, ``env -i`` or a user's shell often lacks, and a
store or quota must not be silently given up for that."""

from __future__ import annotations

import os
import shutil

SYSTEM_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin")


def which(name: str) -> str | None:
    """The path of ``name`` on PATH or in ``SYSTEM_DIRS``, or None."""
    return shutil.which(name) or shutil.which(name, path=os.pathsep.join(SYSTEM_DIRS))


def tool(name: str) -> str:
    """``name``'s path where it is found, else ``name`` (so a failed run names the program)."""
    return which(name) or name
