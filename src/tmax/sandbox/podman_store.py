"""tmax's own podman storage, where each container's disk use has a ceiling.

Podman's default store (overlay on the host's ext4 here) has no per-container total: a
container can fill the host's disk. tmax therefore gives its podman a store of its own: a
sparse file (``TMAX_PODMAN_STORE_GB``, default 64; raising it grows the store on the next
start) formatted as btrfs and loop-mounted at ``TMAX_PODMAN_STORE`` (default
``/var/lib/tmax/podman``), used with podman's ``btrfs`` storage driver. Each container's
writable layer is a btrfs subvolume; ``limit`` caps what it may hold beyond the image
(a qgroup limit on its *exclusive* bytes), so writes past the task's ``storage_mb`` fail
inside with EDQUOT ("Disk quota exceeded") and the host loses at most that much per sandbox.
Quotas are btrfs' simple quotas where the kernel has them (6.7+; a store that used them cannot
be mounted by an older kernel), full qgroups otherwise (containers then start and go a few
times slower). The file is mounted with ``discard=async``: what containers delete goes back
to the host, after btrfs' discard delay (a few minutes; ``fstrim`` on the store at once).

Why btrfs and not XFS project quotas (what ``podman run --storage-opt size=`` needs with the
overlay driver): kernels built without ``CONFIG_XFS_QUOTA`` (ours) cannot mount XFS with
``prjquota``, and podman 4.3 hands a per-container ``--storage-opt`` to the btrfs driver's
start-up options, which refuse ``size`` -- so tmax sets the qgroup limit itself.

Every podman call tmax makes goes through ``container_cli.engine_argv``, which adds
``args()`` (``--root``/``--runroot``/``--storage-driver``): builds, imports, exports, runs,
prune, ``tmax images bootstrap``. Images of the default store are not seen there: bootstrap
imports the base into this store, task images are rebuilt on first use.

Mounting is idempotent and race-safe (a file lock around it; a mounted store is left as it
is) and survives reboots (the next tmax process mounts the existing file again). Where it
cannot be had -- not root (rootless podman), no loop devices, no btrfs in the kernel or no
``mkfs.btrfs`` -- or ``TMAX_PODMAN_STORE=off``, podman keeps its default store and sandboxes
fall back to capping each file (RLIMIT_FSIZE); ``store().why`` says why and a warning is issued.
"""

from __future__ import annotations

import fcntl
import functools
import os
import struct
import subprocess
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

from tmax.errors import SandboxError
from tmax.io import file_lock
from tmax.sandbox import hosttools

DEFAULT_ROOT = "/var/lib/tmax/podman"
DEFAULT_GB = 64
RUNROOT = Path("/run/tmax/podman")
MOUNT_OPTIONS = "discard=async"  # freed space goes back to the host (after btrfs' discard delay)
_BTRFS_IOC_QUOTA_CTL = 0xC0109428  # _IOWR(0x94, 40, struct btrfs_ioctl_quota_ctl_args {u64 cmd, status})
_QUOTA_ENABLE, _QUOTA_ENABLE_SIMPLE = 1, 4
_BTRFS_IOC_FS_INFO = 0x8400941F  # _IOR(0x94, 31, struct btrfs_ioctl_fs_info_args), 1024 bytes


@dataclass(frozen=True)
class Store:
    """A mounted store (``root``) or why there is none (``why``)."""

    root: Path | None
    why: str | None = None
    simple: bool = False  # btrfs simple quotas (else full qgroups)

    def args(self) -> tuple[str, ...]:
        if self.root is None:
            return ()
        return ("--root", str(self.root), "--runroot", str(RUNROOT), "--storage-driver", "btrfs")


def configured_root() -> Path | None:
    value = os.environ.get("TMAX_PODMAN_STORE", DEFAULT_ROOT).strip()
    return None if value.lower() in ("", "off", "0", "none") else Path(value)


def configured_bytes() -> int:
    raw = os.environ.get("TMAX_PODMAN_STORE_GB", str(DEFAULT_GB))
    try:
        gb = float(raw)
    except ValueError:
        raise SandboxError(f"TMAX_PODMAN_STORE_GB={raw!r} is not a number", where="environment variable",
                           fix="set it to the store's size in GB, e.g. 64") from None
    if gb < 1:
        raise SandboxError(f"TMAX_PODMAN_STORE_GB={raw!r} is below 1", where="environment variable",
                           fix="give the store at least 1 GB (it is sparse: unused space costs nothing)")
    return int(gb * (1 << 30))


def image_of(root: Path) -> Path:
    """The file that holds the store mounted at ``root``."""
    return root.with_name(root.name + ".img")


def unavailable() -> str | None:
    """Why this host cannot have the store, or None."""
    if configured_root() is None:
        return "TMAX_PODMAN_STORE=off"
    if os.geteuid() != 0:
        return "not root (rootless podman cannot mount it)"
    if not Path("/dev/loop-control").exists():
        return "no loop devices"
    if "btrfs" not in Path("/proc/filesystems").read_text():
        return "the kernel has no btrfs"
    for tool in ("mkfs.btrfs", "btrfs"):
        if not hosttools.which(tool):
            return f"{tool} is missing (apt-get install btrfs-progs)"
    return None


def _mounted_btrfs(at: Path) -> bool:
    for line in Path("/proc/self/mounts").read_text().splitlines():
        fields = line.split()
        if len(fields) > 2 and fields[1] == str(at) and fields[2] == "btrfs":
            return True
    return False


def _run(argv: list[str], what: str) -> str:
    proc = subprocess.run([hosttools.tool(argv[0]), *argv[1:]], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SandboxError(f"{what} failed: {(proc.stderr or proc.stdout).strip()[-800:]}",
                           where=f"podman store ({' '.join(argv[:3])})",
                           fix="set TMAX_PODMAN_STORE=off to use podman's default store (no disk total)")
    return proc.stdout


def mount(root: Path, size: int) -> None:
    """Make (first time) and mount the store at ``root``, grow it to ``size`` if it is smaller, and
    turn quotas on. A btrfs already mounted at ``root`` (a real partition, say) is used as it is."""
    image = image_of(root)
    with file_lock(root.with_name(root.name + ".lock")):
        if not _mounted_btrfs(root):
            if not image.exists():
                _make(image, size)
            root.mkdir(parents=True, exist_ok=True)
            _run(["mount", "-o", f"loop,{MOUNT_OPTIONS}", str(image), str(root)], "mounting the store")
        if image.exists() and image.stat().st_size < size:
            _grow(root, image, size)
            _check_host_room(image, size)
        _enable_quotas(root)
        RUNROOT.mkdir(parents=True, exist_ok=True)


def _make(image: Path, size: int) -> None:
    partial = image.with_name(image.name + ".partial")
    partial.parent.mkdir(parents=True, exist_ok=True)
    _run(["truncate", "-s", str(size), str(partial)], "creating the store file")
    # one copy of metadata: a second one on the same host disk protects nothing
    _run(["mkfs.btrfs", "-q", "-f", "-K", "-m", "single", "-L", "tmax-podman", str(partial)], "mkfs.btrfs")
    partial.rename(image)
    _check_host_room(image, size)


def _enable_quotas(root: Path) -> None:
    """Simple quotas where the kernel has them (6.7+): each extent counts against the subvolume
    that wrote it, which costs nothing when containers start and go (full qgroups, the fallback
    for older kernels, make both several times slower). A no-op once quotas are on."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for cmd in (_QUOTA_ENABLE_SIMPLE, _QUOTA_ENABLE):
            try:
                fcntl.ioctl(fd, _BTRFS_IOC_QUOTA_CTL, bytearray(struct.pack("QQ", cmd, 0)))
                return
            except OSError as exc:
                error = exc
        raise SandboxError(f"could not turn btrfs quotas on at {root}: {error}", where="podman store",
                           fix="set TMAX_PODMAN_STORE=off to use podman's default store (no disk total)")
    finally:
        os.close(fd)


def quota_mode(root: Path) -> str:
    """btrfs' quota mode of the file system at ``root``: squota, qgroup or disabled."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        info = bytearray(1024)  # struct btrfs_ioctl_fs_info_args; the fsid is bytes 16-32
        fcntl.ioctl(fd, _BTRFS_IOC_FS_INFO, info)
    finally:
        os.close(fd)
    mode = Path(f"/sys/fs/btrfs/{uuid.UUID(bytes=bytes(info[16:32]))}/qgroups/mode")
    return mode.read_text().strip() if mode.exists() else "disabled"


def _check_host_room(image: Path, size: int) -> None:
    """Warn (when the store is made or grown) if the host could not hold a full store."""
    host = os.statvfs(image.parent)
    if host.f_bavail * host.f_frsize + image.stat().st_blocks * 512 < size:
        warnings.warn(f"tmax's podman store ({size / 2**30:.0f} GB, sparse) may outgrow the free space of the "
                      f"disk holding {image}: a full host disk makes the store read-only. Lower "
                      "TMAX_PODMAN_STORE_GB or free space.", stacklevel=3)


def _grow(root: Path, image: Path, size: int) -> None:
    _run(["truncate", "-s", str(size), str(image)], "growing the store file")
    for line in _run(["losetup", "-j", str(image)], "finding the store's loop device").splitlines():
        _run(["losetup", "-c", line.split(":")[0]], "resizing the loop device")
    _run(["btrfs", "filesystem", "resize", "max", str(root)], "growing the store filesystem")


@functools.cache
def store() -> Store:
    """The store, mounted on first use in this process (see the module docstring)."""
    why = unavailable()
    if why is None:
        size = configured_bytes()  # a bad knob is an error, not a reason to run without a quota
        try:
            mount(configured_root(), size)
            return Store(configured_root(), simple=quota_mode(configured_root()) == "squota")
        except SandboxError as exc:
            why = str(exc)
    warnings.warn(f"tmax's podman store is unavailable ({why}); podman containers get no disk total, "
                  "only each file is capped at storage_mb", stacklevel=2)
    return Store(None, why)


def store_args_in(argv: tuple[str, ...]) -> bool:
    """Whether a podman command line ``argv`` uses the (mounted) store."""
    root = configured_root()
    return root is not None and tuple(argv[-6:]) == Store(root).args() and store().root is not None


def subvolume_of(pid: int) -> int:
    """The btrfs subvolume (= qgroup 0/id) that is the root of process ``pid``'s container."""
    return int(_run(["btrfs", "inspect-internal", "rootid", f"/proc/{pid}/root"], "finding the container's "
                    "subvolume").strip())


def limit(subvolume: int, size_mb: int | None) -> None:
    """Cap what ``subvolume`` holds beyond its image at ``size_mb`` (None lifts the cap)."""
    root = store().root
    value = f"{size_mb}M" if size_mb else "none"
    _run(["btrfs", "qgroup", "limit", "-e", value, f"0/{subvolume}", str(root)], "setting the disk quota")


def trim(settle: bool = True) -> int | None:
    """Give what containers freed back to the host now (``fstrim``; with ``settle`` once btrfs
    has dropped the layers of removed containers): the bytes the store's file shrank by; None
    without a store file of tmax's. ``tmax sandbox prune`` calls it."""
    root = configured_root()
    image = image_of(root) if root else None
    if image is None or not image.exists() or not _mounted_btrfs(root) or not hosttools.which("fstrim"):
        return None
    if settle:  # wait until btrfs has dropped the layers of removed containers (up to ~30 s)
        subprocess.run([hosttools.tool("btrfs"), "subvolume", "sync", str(root)], capture_output=True)
    before = image.stat().st_blocks * 512
    subprocess.run([hosttools.tool("fstrim"), str(root)], capture_output=True)
    return max(0, before - image.stat().st_blocks * 512)


def usage() -> dict[str, int] | None:
    """Bytes the store's file takes on the host, and bytes in use inside it; None without a store."""
    root = configured_root()
    if root is None or not _mounted_btrfs(root):
        return None
    image = image_of(root)
    fs = os.statvfs(root)
    return {"on_host": image.stat().st_blocks * 512, "used": (fs.f_blocks - fs.f_bfree) * fs.f_frsize}
