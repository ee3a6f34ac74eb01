"""The bubblewrap backend: a sandbox over a root filesystem directory, no container engine.

One bwrap process per sandbox runs a tiny bash init as PID 1 of new user, PID, mount, network,
IPC, UTS and cgroup namespaces. Every shell (the agent's, the verifier's) joins them with
``nsenter --target <init> --root --wd`` and drops all capabilities with the rootfs's
``setpriv``, so shells share one filesystem view, process tree and network, like ``podman
exec`` into one container, and a restarted shell keeps the sandbox's background processes.
(One bwrap per shell could not share a sandbox; a server loop inside would need a protocol.)
The init cannot be killed from inside (``kill -9 -1`` is survivable) and reaps orphans.

Isolates: filesystem (the rootfs read-only at ``/``; writable are only ``/tmp``, ``/var/tmp``,
``/root``, ``/logs``, ``/tests``, ``/solution`` and the workdir, per-sandbox host directories
seeded with the rootfs's content and removed on close), processes (PID namespace), network
(loopback only; with ``spec.network`` the host's network namespace itself, host loopback
services included), privileges (uid 0 with no capabilities: cannot mount or remount), and
where cgroups are writable (root) process count, memory without swap and a CPU quota;
``limits`` says what is enforced.

Disk: as root the writable dirs live on a loop-mounted ext4 filesystem of ``storage_mb``
(``tmax.sandbox.disk``): writes past it fail inside, the host loses at most that much.
Without root, only each file's size is capped (RLIMIT_FSIZE).

Does not isolate: the kernel, and without cgroups (non-root) memory and CPU. When tmax runs as root the sandbox's uid 0 is
the host's uid 0 to the kernel: no capability, and nothing of the host is mounted, but
interfaces that check the uid itself would trust it, so ``/proc/sys`` is mounted read-only
(a writable ``core_pattern`` is a host root shell); root's kernel keyring and, with a
network, abstract unix sockets of the host remain reachable. ``--die-with-parent`` ties the
sandbox to the creating thread: create and close it from one long-lived thread.

``host_root=True`` shows the host's own ``/`` read-only instead of a rootfs, with empty tmpfs
masks over /root, /home, /tmp, /run, /var, /mnt, /media, /srv, /opt and /work. That leaks the
host's OS files (``/etc``, programs, and as root ``/etc/shadow``) read-only: trusted work only.
"""

from __future__ import annotations

import functools
import os
import re
import resource
import secrets
import select
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path

from tmax.errors import SandboxError
from tmax.sandbox import cache, disk
from tmax.sandbox.base import SandboxSpec, ShellSandbox, cache_dir
from tmax.sandbox.procs import (children_of, kill_namespace, namespace, owner_alive, owner_token,
                               pid_namespace, processes_in)
from tmax.sandbox.rootfs import PATH, RootfsFiles, norm, seed_writable_dirs, under
from tmax.sandbox.shell import Shell

HOST_MASKS = ("/root", "/home", "/tmp", "/run", "/var", "/mnt", "/media", "/srv", "/opt", "/work")
# ns pid 1. `ready` tells the host that bwrap finished the mounts. It then blocks reading a pipe
# the host holds (no child of its own for interrupts to kill; bash still reaps orphans) and
# exits, ending the sandbox, when the host process goes away.
_INIT = 'echo ready; exec >/dev/null 2>&1; trap "" TERM INT HUP; while read -r _; do :; done'
_CG = Path("/sys/fs/cgroup")
_PERIOD_US = 100_000


_NS_FLAGS = {"user": "-U", "mnt": "-m", "uts": "-u", "ipc": "-i", "net": "-n", "pid": "-p", "cgroup": "-C"}


@functools.cache
def _disable_userns() -> tuple[str, ...]:
    """``--disable-userns`` (bwrap 0.8+) when we are root: no nested user namespace regains
    capabilities. Not for other users: it nests the sandbox one user namespace deeper, where an
    unprivileged nsenter cannot reach the other namespaces."""
    if os.geteuid() != 0:
        return ()
    out = subprocess.run(["bwrap", "--help"], capture_output=True, text=True)
    return ("--disable-userns",) if "--disable-userns" in out.stdout + out.stderr else ()


def _expanded_dirs(root: Path, missing: list[str]) -> set[str]:
    """The dirs of ``root`` on the way to a mount point it lacks (``/`` aside): bwrap can only
    make a mount point on its tmpfs, so these are rebuilt there entry by entry. A mount point
    behind a symlink of the root is left to bwrap, which follows the link inside the sandbox."""
    dirs: set[str] = set()
    for path in missing:
        seed = root / path[1:]
        if os.path.realpath(seed) != str(seed):
            continue
        parent = os.path.dirname(path)
        while parent != "/":
            if (root / parent[1:]).is_dir():
                dirs.add(parent)
            parent = os.path.dirname(parent)
    return dirs


class _Cgroup:
    """A per-sandbox cgroup ``tmax/<name>``: v2, or v1 controllers nested under our own groups."""

    def __init__(self, name: str, spec: SandboxSpec, record: Path | None = None):
        self.dirs: list[Path] = []
        self.record = record
        self.limits: dict = {"cgroup": None, "pids": None, "memory_mb": None, "swap": None, "cpus": None}
        quota = max(1000, int(spec.cpus * _PERIOD_US))
        try:
            if (_CG / "cgroup.controllers").exists():
                self._make(_CG, name, {"pids.max": spec.pids, "memory.max": spec.memory_mb << 20,
                                       "memory.swap.max": 0, "cpu.max": f"{quota} {_PERIOD_US}"})
                version = "v2"
            else:
                own = {c: line.split(":", 2)[2].strip() for line in open("/proc/self/cgroup")
                       for c in line.split(":", 2)[1].split(",") if c}
                # Nested under our own groups so that limits placed on us still hold for the sandbox.
                for ctrl, settings in (("pids", {"pids.max": spec.pids}),
                                       ("memory", {"memory.limit_in_bytes": spec.memory_mb << 20,
                                                   "memory.memsw.limit_in_bytes": spec.memory_mb << 20}),
                                       ("cpu", {"cpu.cfs_period_us": _PERIOD_US, "cpu.cfs_quota_us": quota})):
                    self._make(_CG / ctrl / own.get(ctrl, "/").lstrip("/"), name, settings)
                version = "v1"
        except OSError as exc:
            self.remove()
            self.limits["note"] = f"no cgroup limits ({exc.strerror or exc}: {exc.filename or ''})"
            return
        files = {f.name for d in self.dirs for f in d.iterdir()}
        self.limits.update(cgroup=version, pids=spec.pids, memory_mb=spec.memory_mb, cpus=spec.cpus,
                           swap="off" if files & {"memory.swap.max", "memory.memsw.limit_in_bytes"} else "not limited")

    def _make(self, base: Path, name: str, settings: dict) -> None:
        if base == _CG:  # v2: the root may hold processes, so controllers can be enabled below it
            (base / "tmax").mkdir(exist_ok=True)
            for d in (base, base / "tmax"):
                (d / "cgroup.subtree_control").write_text("+pids +memory +cpu")
        group = base / "tmax" / name
        group.mkdir(parents=True)
        self.dirs.append(group)
        if self.record:  # `tmax sandbox prune` finds a killed job's cgroups here
            with open(self.record, "a") as fh:
                fh.write(f"{group}\n")
        for file, value in settings.items():
            if (group / file).exists():  # swap files are absent when swap accounting is off
                (group / file).write_text(str(value))

    @property
    def procs(self) -> list[Path]:
        return [d / "cgroup.procs" for d in self.dirs]

    def remove(self) -> None:
        for group in reversed(self.dirs):
            for _ in range(250):
                try:
                    group.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # busy: processes still exiting; everything in the group is ours
                    for pid in (group / "cgroup.procs").read_text().split():
                        try:
                            os.kill(int(pid), signal.SIGKILL)
                        except (ProcessLookupError, PermissionError):
                            pass
                    time.sleep(0.02)
        self.dirs = []


class BwrapSandbox(ShellSandbox):
    """A bubblewrap sandbox over a rootfs directory (``tmax.sandbox.images.base_rootfs()``)."""

    name = "bwrap"

    def __init__(self, rootfs: Path, spec: SandboxSpec | None = None, *, workdir: str = "/app",
                 label: str = "sandbox", host_root: bool = False):
        super().__init__(spec or SandboxSpec())
        self._closed, self._init, self._cgroup, self._init_pid, self._disk = True, None, None, None, None
        for tool in ("bwrap", "nsenter", "bash"):
            if not shutil.which(tool):
                raise SandboxError(f"{tool} is not installed", where="sandbox backend `bwrap`",
                                   fix="apt-get install -y bubblewrap util-linux, or choose --sandbox podman")
        self.root = Path("/") if host_root else Path(os.path.realpath(rootfs))
        self.host_root, self.workdir = host_root, norm(workdir)
        found = [p for p in ("/usr/bin/setpriv", "/bin/setpriv") if os.path.lexists(self.root / p[1:])]
        if not found:
            raise SandboxError(f"no setpriv in {self.root} (needed to drop capabilities)", where="bwrap rootfs",
                               fix="build the rootfs from Debian/Ubuntu (util-linux), or use --sandbox podman")
        self._setpriv = found[0]
        self._hold = cache.hold(self.root) if self.root.parent == cache_dir() / "rootfs" else None
        self._void = ("/proc", "/dev", "/sys") + (HOST_MASKS if host_root else ())
        slug = self._slug = re.sub(r"[^a-z0-9-]+", "-", label.lower())[:40]
        self._dir = Path(tempfile.mkdtemp(prefix=f"tmax-bwrap-{slug}-"))
        (self._dir / "owner").write_text(owner_token())  # for `tmax sandbox prune`
        self._closed = False
        try:
            storage = self._disk_quota()
            self.mounts = self._writable_dirs()
            self._cgroup = _Cgroup(f"{slug}-{secrets.token_hex(5)}", self.spec, self._dir / "cgroups")
            self.limits = {**self._cgroup.limits, "nofile": self.spec.nofile, "nproc": self.spec.nproc,
                           "storage": storage}
            self._start_init()
            self._main = self.open_shell()
        except BaseException:
            self.close()
            raise

    # -- start ------------------------------------------------------------------------------
    def _disk_quota(self) -> str:
        """The writable dirs on a filesystem of ``storage_mb`` (tmax.sandbox.disk) where one can
        be mounted; else files capped at that size (RLIMIT_FSIZE). Says which."""
        if not self.spec.storage_mb:
            return "not limited"
        why = disk.unavailable()
        if why is None:
            self._disk = disk.DiskQuota(self.spec.storage_mb)
            return f"{self.spec.storage_mb} MB filesystem"
        return f"files up to {self.spec.storage_mb} MB each; no total ({why})"

    def _writable_dirs(self) -> dict[str, Path]:
        """Per-sandbox host dirs for the writable paths, seeded from the root (copy, not shared)."""
        def copy(path: str) -> bool:  # a host root is seeded only for a workdir outside the masks
            return not self.host_root or (path == self.workdir and not any(under(path, m) for m in HOST_MASKS))

        rw = self._disk.path if self._disk is not None else self._dir / "rw"
        mounts = seed_writable_dirs(self.root, self.workdir, rw, copy=copy, extra=self.spec.writable)
        # A mount point missing from the root is made on bwrap's own tmpfs, never in the root: a
        # rootfs is shared by every sandbox of its image (and the host's / is the host's).
        missing = [p for p in mounts if not os.path.lexists(self.root / p[1:])]
        self._single_root = not self.host_root and not missing
        self._expand = _expanded_dirs(self.root, missing)
        self.mounts = mounts
        self.files = RootfsFiles(self.root, mounts, self._void, self._dir / "void")
        if self.workdir not in mounts and self.workdir != "/":  # inside /root, /tmp, ...
            self.files.mkdir(self.workdir)
        return mounts

    def _bwrap_argv(self) -> list[str]:
        argv = ["bwrap", "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--as-pid-1",
                "--cap-drop", "ALL", *_disable_userns(), "--hostname", "sandbox", "--uid", "0", "--gid", "0"]
        if self.spec.network:
            argv.append("--share-net")
        masks = HOST_MASKS if self.host_root else ()
        # One read-only bind of the root when every mount point exists in it (2-3 ms faster);
        # else its entries one by one onto bwrap's tmpfs root, where the missing ones are made.
        if self._single_root:
            argv += ["--ro-bind", str(self.root), "/"]
        else:
            argv += self._bind_entries(self.root, "/", masks)
        # Sandbox uid 0 is host uid 0 when tmax runs as root, and sysctl files check exactly that
        # (core_pattern would run a host command as root), so /proc/sys is read-only as a mount.
        argv += ["--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys",
                 "--ro-bind-try", "/proc/sysrq-trigger", "/proc/sysrq-trigger", "--dev", "/dev"]
        for mask in masks:
            argv += ["--tmpfs", mask]
        for path, host in self.mounts.items():
            argv += ["--bind", str(host), path]
        resolv = self.root / "etc/resolv.conf"
        if self.spec.network and not self.host_root and resolv.is_file() and not resolv.is_symlink():
            argv += ["--ro-bind", "/etc/resolv.conf", "/etc/resolv.conf"]
        for mask in masks:
            if mask not in self.mounts:
                argv += ["--remount-ro", mask]
        argv += ([] if self._single_root else ["--remount-ro", "/"]) + ["--clearenv"]
        for key, value in self._env({}).items():
            argv += ["--setenv", key, value]
        return argv + ["--chdir", self.workdir, "bash", "--noprofile", "--norc", "-c", _INIT]

    def _bind_entries(self, host: Path, path: str, masks: tuple[str, ...]) -> list[str]:
        """Binds of the entries of the root's dir ``host`` one by one onto bwrap's tmpfs, at
        ``path``; a dir on the way to a missing mount point becomes a tmpfs dir (same mode) whose
        entries are bound the same way, so bwrap makes the mount point there."""
        argv: list[str] = []
        for entry in sorted(os.scandir(host), key=lambda e: e.name):
            sub = path.rstrip("/") + "/" + entry.name
            if sub in ("/proc", "/dev") or sub in masks or (self.host_root and sub == "/sys"):
                continue
            if entry.is_symlink():
                argv += ["--symlink", os.readlink(entry.path), sub]
            elif sub in self._expand:
                argv += ["--perms", f"{stat.S_IMODE(entry.stat().st_mode):04o}", "--dir", sub,
                         *self._bind_entries(Path(entry.path), sub, masks)]
            else:
                argv += ["--ro-bind", entry.path, sub]
        return argv

    def _enter_limits(self) -> None:
        """Runs in the child between fork and exec: join the cgroups and set rlimits, so every
        process of the sandbox inherits them (a shell script wrapper would cost two execs)."""
        for procs in self._cgroup.procs:
            with open(procs, "w") as fh:
                fh.write(str(os.getpid()))
        limits = [(resource.RLIMIT_NOFILE, self.spec.nofile), (resource.RLIMIT_NPROC, self.spec.nproc)]
        if self.spec.storage_mb:
            limits.append((resource.RLIMIT_FSIZE, self.spec.storage_mb << 20))
        for which, value in limits:
            try:
                resource.setrlimit(which, (value, value))
            except (OSError, ValueError):
                pass

    def _start_init(self) -> None:
        log = self._dir / "bwrap.log"
        try:
            with open(log, "wb") as err:
                self._init = subprocess.Popen(self._bwrap_argv(), stdin=subprocess.PIPE, env={"PATH": PATH},
                                              preexec_fn=self._enter_limits, stdout=subprocess.PIPE, stderr=err,
                                              start_new_session=True)
        except (OSError, subprocess.SubprocessError) as exc:
            raise SandboxError(f"could not start bubblewrap: {exc}", where=f"bwrap on {self.root}",
                               fix="check cgroup permissions and that `bwrap` runs here") from exc
        ready, _, _ = select.select([self._init.stdout], [], [], 60)
        line = self._init.stdout.readline() if ready else b""
        self._init.stdout.close()
        kids = children_of(self._init.pid) if line == b"ready\n" else []
        self._init_pid = kids[0] if len(kids) == 1 else None
        self._namespace = pid_namespace(self._init_pid) if self._init_pid else None
        # Only namespaces that differ from ours: joining a shared one (the host's network with
        # spec.network, the time namespace) needs privileges over the host's, which non-root lacks.
        self._ns_flags = [flag for ns, flag in _NS_FLAGS.items() if self._init_pid and
                          namespace(self._init_pid, ns) != namespace(os.getpid(), ns)]
        if os.geteuid() != 0:  # setgroups is denied in an unprivileged user namespace; uid is 0 there
            self._ns_flags.append("--preserve-credentials")
        if self._namespace is None or self._namespace == pid_namespace(os.getpid()):
            why = log.read_text(errors="replace").strip()[-1500:] or "no output"
            raise SandboxError(f"bubblewrap did not start: {why}", where=f"bwrap on {self.root}",
                               fix="check that the rootfs has bash and that `bwrap --unshare-all --ro-bind / / "
                                   "true` works here (user namespaces must be enabled)")

    def _env(self, env: dict[str, str]) -> dict[str, str]:
        return {"PATH": PATH, "HOME": "/root", "LANG": "C.UTF-8", "TERM": "dumb", **self.spec.env, **env}

    # -- shells -----------------------------------------------------------------------------
    def _shell_argv(self, env: dict[str, str]) -> list[str]:
        # setpriv: entering the user namespace hands nsenter every capability in it again.
        return ["nsenter", "-t", str(self._init_pid), *self._ns_flags, "-r", "-w", self._setpriv,
                "--bounding-set", "-all", "--inh-caps", "-all", "--no-new-privs", "/bin/bash", "--noprofile", "--norc"]

    def _shell_popen_kwargs(self, env: dict[str, str]) -> dict:
        return {"env": self._env(env), "preexec_fn": self._enter_limits}

    def _interrupt(self, shell: Shell) -> None:
        if self._namespace:
            kill_namespace(self._namespace, {1} | self._live_shell_pids())

    def namespace_pid(self) -> int | None:
        """Host pid of the sandbox's init: its namespaces are the sandbox's (``tmax.sandbox.portal``)."""
        return self._init_pid if self._init is not None and self._init.poll() is None else None

    # -- between the agent and the verifier ---------------------------------------------------
    def end_processes(self) -> None:
        """End every process of the sandbox but its init (the agent's shells, their children,
        daemons it left) and wait until none is left; the files stay. When that cannot be done
        (the init is gone, processes keep coming), the sandbox starts again over the same
        writable dirs: a fresh namespace holds no process of the agent's."""
        self._close_shells()
        if self._init is not None and self._init.poll() is None and self._namespace:
            kill_namespace(self._namespace, {1})
            left = [inner for inner in processes_in(self._namespace).values() if inner != 1]
            if not left and pid_namespace(self._init_pid) == self._namespace:
                return
        self._stop_init()
        self._cgroup.remove()
        self._cgroup = _Cgroup(f"{self._slug}-{secrets.token_hex(5)}", self.spec, self._dir / "cgroups")
        self._start_init()

    # -- files (tmax.sandbox.rootfs: resolved as the sandbox sees them, copied without following links)
    def upload(self, src: Path, dest: str) -> None:
        self.files.upload(src, dest)

    def download(self, src: str, dest: Path) -> None:
        self.files.download(src, dest)

    def open_file(self, src: str):
        return self.files.open_file(src)

    # -- stop -------------------------------------------------------------------------------
    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._close_shells()
        self._stop_init()
        if self._cgroup is not None:
            self._cgroup.remove()
        if self._disk is not None:
            self._disk.remove()
        shutil.rmtree(self._dir, ignore_errors=True)
        if getattr(self, "_hold", None) is not None:  # ``tmax cache prune`` may remove the rootfs now
            os.close(self._hold)
            self._hold = None

    def _stop_init(self) -> None:
        if self._init is None:
            return
        if self._init.poll() is None:  # bwrap alive, so its child pid cannot have been reused
            for pid in (self._init_pid, self._init.pid):  # the namespace dies with its init
                try:
                    os.kill(pid, signal.SIGKILL) if pid else None
                except ProcessLookupError:
                    pass
        self._init.wait()
        self._init.stdin.close()
        self._init = None


def prune() -> int:
    """Remove bwrap sandboxes whose tmax process is gone: their processes (by cgroup), cgroups,
    per-sandbox dirs and disk quota filesystems. Sandboxes of live tmax processes stay."""
    removed = 0
    for d in Path(tempfile.gettempdir()).glob("tmax-bwrap-*"):
        owner = d / "owner"
        if not d.is_dir() or not owner.is_file() or owner_alive(owner.read_text().strip()):
            continue
        groups = [Path(line) for line in (d / "cgroups").read_text().split()] if (d / "cgroups").is_file() else []
        cgroup = _Cgroup.__new__(_Cgroup)
        cgroup.dirs = [g for g in groups if g.is_dir() and str(g).startswith(str(_CG))]
        cgroup.remove()  # kills what is left in them, then removes them
        shutil.rmtree(d, ignore_errors=True)
        removed += 1
    disk.prune()
    return removed
