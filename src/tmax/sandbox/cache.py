"""What tmax keeps in its cache (``TMAX_CACHE``, default ``~/.cache/tmax``), how big it is, and
pruning it (``tmax cache``).

Kinds: ``rootfs`` (unpacked task images for bwrap/apptainer, one dir per image id, plus the
base rootfs), ``verifier`` (the offline verifier layer), ``disk`` (empty filesystem images for
disk quotas), ``locks``. Task rootfs dirs share every file they have in common with the base
rootfs as hard links (``dedupe_against``), so an image costs what it adds; sizes count each
inode once. Pruning removes task rootfs dirs (never the base, never one in use: each is
locked while a sandbox starts from it) by age of last use, or oldest first down to a size.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from tmax.sandbox.base import cache_dir

KINDS = ("rootfs", "verifier", "disk", "locks")


def disk_usage(paths: list[Path], seen: set | None = None) -> int:
    """Bytes on disk under ``paths``, each inode counted once (hard links shared across them)."""
    seen = set() if seen is None else seen
    total = 0
    for root in paths:
        for here, dirs, files in os.walk(root):
            for name in files + dirs:
                try:
                    info = os.lstat(os.path.join(here, name))
                except OSError:
                    continue
                if (info.st_dev, info.st_ino) in seen:
                    continue
                seen.add((info.st_dev, info.st_ino))
                total += info.st_blocks * 512
    return total


def sizes() -> dict[str, int]:
    """Bytes per kind; the base rootfs is counted first so task rootfs dirs show what they add."""
    root, seen = cache_dir(), set()
    out = {"rootfs (base)": disk_usage([root / "rootfs" / "base"], seen)}
    out["rootfs (task images)"] = disk_usage([p for p in (root / "rootfs").glob("*") if p.name != "base"], seen)
    for kind in KINDS[1:]:
        out[kind] = disk_usage([root / kind], seen)
    return out


def dedupe_against(tree: Path, base: Path) -> int:
    """Replace every regular file of ``tree`` that equals the one at the same path in ``base``
    (content, mode, owner) with a hard link to it. Returns the bytes saved."""
    saved = 0
    for here, _, files in os.walk(tree):
        rel = os.path.relpath(here, tree)
        for name in files:
            path, twin = os.path.join(here, name), os.path.join(base, rel, name)
            try:
                a, b = os.lstat(path), os.lstat(twin)
            except OSError:
                continue
            if not (stat.S_ISREG(a.st_mode) and stat.S_ISREG(b.st_mode)) or a.st_ino == b.st_ino:
                continue
            if (a.st_size, a.st_mode, a.st_uid, a.st_gid) != (b.st_size, b.st_mode, b.st_uid, b.st_gid):
                continue
            if a.st_dev != b.st_dev or not filecmp.cmp(path, twin, shallow=False):
                continue
            tmp = path + ".tmax-link"
            os.link(twin, tmp)
            os.replace(tmp, path)
            saved += a.st_blocks * 512
    return saved


@dataclass
class Entry:
    path: Path
    used_at: float
    size: int


def task_rootfs_entries() -> list[Entry]:
    """Task rootfs dirs, least recently used first (use = a sandbox started from it)."""
    base = cache_dir() / "rootfs"
    entries = []
    for path in base.glob("*"):
        if not path.is_dir() or path.name == "base" or path.name.endswith(".partial"):
            continue
        marker = path / ".tmax-used"
        used = marker.stat().st_mtime if marker.exists() else path.stat().st_mtime
        entries.append(Entry(path, used, 0))
    return sorted(entries, key=lambda e: e.used_at)


def hold(rootfs: Path) -> int | None:
    """Mark ``rootfs`` used and hold a shared lock on it while a sandbox runs from it (close the
    returned fd to let go); ``prune`` skips rootfs dirs someone holds."""
    import fcntl

    try:
        (rootfs / ".tmax-used").touch()
        fd = os.open(rootfs.with_name(rootfs.name + ".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError:
        return None  # not a cache dir of ours (a rootfs elsewhere, read-only): nothing to hold
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def _try_exclusive(path: Path) -> int | None:
    import fcntl

    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def prune(*, older_than_days: float | None = None, max_bytes: int | None = None, dry_run: bool = False
          ) -> list[Entry]:
    """Remove task rootfs dirs unused for ``older_than_days``, then the least recently used
    until the task rootfs total is under ``max_bytes``. Returns what was (or would be) removed."""
    entries, removed = task_rootfs_entries(), []
    base_seen: set = set()
    disk_usage([cache_dir() / "rootfs" / "base"], base_seen)
    for e in entries:
        e.size = disk_usage([e.path], set(base_seen))
    now = time.time()
    total = sum(e.size for e in entries)
    for e in entries:
        old = older_than_days is not None and now - e.used_at > older_than_days * 86400
        big = max_bytes is not None and total > max_bytes
        if not (old or big):
            continue
        fd = _try_exclusive(e.path)
        if fd is None:  # a sandbox runs from it, or a trial is unpacking it
            continue
        try:
            removed.append(e)
            total -= e.size
            if not dry_run:
                shutil.rmtree(e.path, ignore_errors=True)
        finally:
            os.close(fd)
    return removed
