"""The Apptainer backend: sandboxes on HPC clusters that have no container daemon.

Apptainer (formerly Singularity) runs a plain directory as a container image, so this backend
uses the same unpacked rootfs as bwrap (``PreparedEnvironment.rootfs``). Each sandbox is one
``apptainer instance start`` over that directory; every shell (the agent's, the verifier's)
joins it with ``apptainer exec instance://NAME``, so shells share one filesystem view,
process tree and network, and a restarted shell keeps the sandbox's background processes.
The instance's PID 1 is Apptainer's own init (``appinit``): it reaps orphans and, with no
start script in the rootfs, ignores every signal a process inside can send it. Needs
Apptainer 1.1+ (``singularity`` is used when there is no ``apptainer``; SingularityCE has the
same flags but is untested).

Started with ``--containall --no-home --cleanenv --writable-tmpfs --hostname sandbox
--no-mount sys,bind-paths``, plus ``--net --network none`` unless ``spec.network``.
``bind-paths`` (Apptainer 1.2+; 1.1 ignores it) keeps out the bind paths a site lists in
apptainer.conf (/scratch, /project, ...). Extra flags for ``instance start`` (``--fakeroot``,
``--nv``) come from ``TMAX_APPTAINER_ARGS``. ``APPTAINER_*``/``SINGULARITY_*`` variables of
the host (``APPTAINER_BIND`` from site modules, ``APPTAINERENV_*``) are not passed on, except
``*_CONFIGDIR``; shells get exactly the sandbox's environment through ``env -i``.

Isolates: filesystem: the rootfs is the read-only lower layer of an overlay whose upper layer
is a tmpfs (``sessiondir max size`` in apptainer.conf: 64 MiB by default for non-root; it counts
as the sandbox's memory); nothing is written to the cached rootfs. ``/tmp``, ``/var/tmp``,
``/root``, ``/logs``, ``/tests``, ``/solution``, ``/opt/tmax-verifier`` and the workdir are
per-sandbox host directories seeded with the rootfs's content, bound in (checked after start:
``user bind control = no`` would drop them silently) and removed on close, so work there is
not limited by the tmpfs. Where the rootfs cannot be an overlay's lower layer Apptainer drops
``--writable-tmpfs`` with a warning and the rest of the root is read-only
(``limits["writable_root"]``). Nothing of the host's home, working directory, /tmp or /sys is
mounted; Apptainer adds /proc, a minimal /dev, /etc/passwd and /etc/group with your user,
/etc/hostname, and the host's /etc/resolv.conf.
Processes: own PID namespace. Network: ``--net --network none``, loopback only; Apptainer
lets non-root users ask for ``none`` (any other network type needs root or ``allow net
users``), and where network namespaces are disabled the start fails rather than run the
sandbox with a network. With ``spec.network`` the sandbox shares the host's network namespace,
host loopback services included. Privileges: when tmax runs as root, uid 0 without
capabilities (``--no-privs`` on the instance and on every ``exec``, which does not inherit
it) with /proc/sys and /proc/sysrq-trigger bound read-only (that uid is the host's, and those
files check only the uid); otherwise your own uid, which owns the rootfs tmax unpacked and so
can write everywhere in the overlay (``--fakeroot`` in ``TMAX_APPTAINER_ARGS`` makes it appear
as root, but rootless cgroups do not work with fakeroot).

Resource limits: ``--cpus`` (at most the host's cores), ``--memory``, ``--memory-swap`` (=
memory: no swap) and ``--pids-limit``. Apptainer enforces them with cgroups: as root, or for
other users only on cgroups v2 with ``systemd cgroups = yes`` in apptainer.conf and a user
session bus (``DBUS_SESSION_BUS_ADDRESS``, ``XDG_RUNTIME_DIR``). Where it cannot, the start
fails; the backend then starts without the swap limit, then without any limit (decided once
per process) and ``limits`` says what is enforced (``cgroup: None`` and a ``note`` when
nothing). Open files and processes per uid are rlimits tmax sets on the apptainer processes
(``nofile``, ``nproc``), capped at the host's hard limits.

Does not isolate: the kernel, disk usage under the bound directories (no quota), and without
cgroups memory, CPU and process count. Instances outlive a killed tmax process (nothing ties
them to it): remove leftovers with ``apptainer instance stop --force 'tmax-*'`` when no tmax
is running. A timeout kills from the host when the instance's PID namespace is visible in
/proc (root, or user-namespace mode), else (setuid installs) from inside through an
``apptainer exec``, which a fork bomb that has used up the pids limit can defeat: the shell
then cannot be restarted and the trial ends as a sandbox error.
"""

from __future__ import annotations

import functools
import json
import os
import re
import resource
import secrets
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from tmax.errors import SandboxError
from tmax.sandbox import cache, tarpipe
from tmax.sandbox.base import SandboxSpec, ShellSandbox, cache_dir
from tmax.sandbox.rootfs import PATH, RootfsFiles, norm, seed_writable_dirs
from tmax.sandbox.procs import kill_namespace, pid_namespace
from tmax.sandbox.shell import Shell

WHERE = "sandbox backend `apptainer`"
INSTALL_FIX = ("install Apptainer (https://apptainer.org/docs/admin/main/installation.html, or your "
               "distribution's apptainer package), or choose --sandbox bwrap")
_KEEP_ENV = ("APPTAINER_CONFIGDIR", "SINGULARITY_CONFIGDIR")
# Which limit flags work here, found once per binary: 0 all, 1 all but --memory-swap, 2 none.
_LIMIT_LEVEL: dict[str, tuple[int, str]] = {}
# Kill every process of the sandbox but PID 1, the live shells ($KEEP) and itself; from inside,
# for installs whose instance is not visible in the host's /proc.
_KILL_INSIDE = ('for _ in 1 2 3 4 5 6 7 8; do n=0; for f in /proc/[0-9]*; do p=${f#/proc/}; '
                'case " 1 $KEEP $$ " in *" $p "*) continue;; esac; kill -9 "$p" 2>/dev/null && n=$((n+1)); '
                'done; [ "$n" = 0 ] && break; done; true')


def find_binary() -> str:
    """The ``apptainer`` (or ``singularity``) executable, or a SandboxError saying how to get one."""
    for name in ("apptainer", "singularity"):
        found = shutil.which(name)
        if found:
            return found
    raise SandboxError("apptainer is not installed (no `apptainer` or `singularity` on PATH)",
                       where=WHERE, fix=INSTALL_FIX)


@functools.cache
def version(binary: str) -> tuple[str, tuple[int, ...]]:
    """(product, version) from ``--version``: ``("apptainer", (1, 3, 4))``; ``("", ())`` if unknown."""
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return "", ()
    found = re.search(r"(\S+) version v?(\d+)\.(\d+)(?:\.(\d+))?", out)
    if not found:
        return "", ()
    return found.group(1), tuple(int(n) for n in found.groups()[1:] if n is not None)


def _cli_env() -> dict[str, str]:
    """The host environment for the apptainer CLI, minus variables that act as its flags."""
    return {k: v for k, v in os.environ.items()
            if k in _KEEP_ENV or not k.startswith(("APPTAINER", "SINGULARITY"))}


class ApptainerSandbox(ShellSandbox):
    """An Apptainer instance over a rootfs directory, with a persistent shell."""

    name = "apptainer"

    # The file layout is bwrap's (a rootfs plus bound per-sandbox directories), and so is the
    # host-side path logic (tmax.sandbox.rootfs): resolve symlinks as the sandbox sees them,
    # never into host files, and copy without following links.

    def __init__(self, rootfs: Path | None, spec: SandboxSpec | None = None, *, workdir: str = "/app",
                 label: str = "sandbox"):
        super().__init__(spec or SandboxSpec())
        self._closed, self._maybe_running, self._pid, self._namespace = True, False, None, None
        self.binary = find_binary()
        product, ver = version(self.binary)
        if product == "apptainer" and ver < (1, 1):
            raise SandboxError(f"apptainer {'.'.join(map(str, ver))} is too old (resource limits and "
                               "unprivileged overlays need 1.1 or newer)", where=WHERE, fix=INSTALL_FIX)
        if rootfs is None or not Path(rootfs, "bin").exists():
            raise SandboxError(f"no unpacked root filesystem at {rootfs}", where=WHERE,
                               fix="prepare the task with prepare_environment(task, 'apptainer'), which "
                                   "unpacks its image, or run `tmax images bootstrap` for the base rootfs")
        self.root, self.workdir = Path(os.path.realpath(rootfs)), norm(workdir)
        self._hold = cache.hold(self.root) if self.root.parent == cache_dir() / "rootfs" else None
        self._void = ("/proc", "/dev", "/sys")  # never read from the host
        self._slug = re.sub(r"[^a-z0-9-]+", "-", label.lower()).strip("-")[:30] or "sandbox"
        self._dir = Path(tempfile.mkdtemp(prefix=f"tmax-apptainer-{self._slug}-"))
        self.instance = ""
        self._closed = False
        try:
            self.mounts = self._writable_dirs()
            self._start_instance()
            self._main = self.open_shell()
            self._check_binds()
        except BaseException:
            self.close()
            raise

    # -- start ------------------------------------------------------------------------------
    def _writable_dirs(self) -> dict[str, Path]:
        """Per-sandbox host dirs for the writable paths, seeded from the rootfs (copy, not shared);
        a mount point the rootfs lacks is made by Apptainer (its overlay or underlay)."""
        mounts = seed_writable_dirs(self.root, self.workdir, self._dir / "rw", extra=self.spec.writable)
        self.mounts = mounts
        self.files = RootfsFiles(self.root, mounts, self._void, self._dir / "void")
        if self.workdir != "/" and self.workdir not in mounts:  # inside /root, /tmp, ...
            self.files.mkdir(self.workdir)
        return mounts

    def _check_binds(self) -> None:
        """Fail unless every bound dir is the host's (``user bind control = no`` drops binds with
        only a warning); record whether the overlay made the rest of the root writable."""
        probe = f".tmax-bind-{secrets.token_hex(4)}"
        for host in self.mounts.values():
            (host / probe).touch()
        try:
            paths = " ".join(shlex.quote(f"{path}/{probe}") for path in self.mounts)
            out = self._main.run(f'for f in {paths}; do [ -e "$f" ] || echo "${{f%/*}}"; done; '
                                 'touch /.tmax-rw 2>/dev/null && rm -f /.tmax-rw && echo writable-root', 60).output
        finally:
            for host in self.mounts.values():
                (host / probe).unlink(missing_ok=True)
        missing = [line for line in out.splitlines() if line.startswith("/")]
        if missing:
            raise SandboxError(f"apptainer did not bind {', '.join(missing)} from the host", where=WHERE,
                               fix="tmax needs `user bind control = yes` in apptainer.conf (the sandbox's "
                                   "writable dirs are binds) and, for a mount point the image lacks, `enable "
                                   "underlay = yes` or `enable overlay = yes`; or choose --sandbox bwrap")
        self.limits["writable_root"] = "writable-root" in out.splitlines()

    def _cpus(self) -> float:
        return round(min(max(self.spec.cpus, 0.01), float(os.cpu_count() or 1)), 2)  # apptainer's range

    def _limit_flags(self, level: int) -> list[str]:
        if level >= 2:
            return []
        s = self.spec
        flags = ["--cpus", f"{self._cpus():g}", "--memory", str(s.memory_mb << 20), "--pids-limit", str(s.pids)]
        return flags + (["--memory-swap", str(s.memory_mb << 20)] if level == 0 else [])

    def _start_argv(self, level: int) -> list[str]:
        argv = [self.binary, "instance", "start", "--containall", "--no-home", "--cleanenv", "--writable-tmpfs",
                "--hostname", "sandbox", "--pid-file", str(self._dir / "instance.pid")]
        product, ver = version(self.binary)
        argv += ["--no-mount", "sys,bind-paths" if product == "apptainer" and ver >= (1, 2) else "sys"]
        if os.geteuid() == 0:  # uid 0 is the host's: no capabilities, and kernel knobs read-only
            argv.append("--no-privs")
            argv += [a for path in ("/proc/sys", "/proc/sysrq-trigger") if os.path.exists(path)
                     for a in ("--bind", f"{path}:{path}:ro")]
        if not self.spec.network:
            argv += ["--net", "--network", "none"]
        for path, host in self.mounts.items():
            argv += ["--bind", f"{host}:{path}"]
        argv += self._limit_flags(level) + shlex.split(os.environ.get("TMAX_APPTAINER_ARGS", ""))
        return argv + [str(self.root), self.instance]

    def _cli(self, argv: list[str], timeout: float, **kwargs) -> tuple[int | None, str]:
        """Run the apptainer CLI with output to a file (a daemonized instance may keep pipes open)."""
        log = self._dir / "cli.log"
        with open(log, "wb") as out:
            try:
                code = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                      env=_cli_env(), cwd=self._dir, timeout=timeout, preexec_fn=self._rlimits,
                                      **kwargs).returncode
            except subprocess.TimeoutExpired:
                code = None
        return code, log.read_text(errors="replace").strip()

    def _start_instance(self) -> None:
        level, note = _LIMIT_LEVEL.get(self.binary, (0, ""))
        while True:
            self.instance = f"tmax-{self._slug}-{secrets.token_hex(5)}"
            self._maybe_running = True
            code, out = self._cli(self._start_argv(level), timeout=180)
            if code == 0:
                break
            if code is not None:
                self._maybe_running = False  # apptainer cleans up an instance that failed to start
            if code is not None and level < 2 and "cgroup" in out.lower():
                level += 1
                why = next((line.strip() for line in out.splitlines() if "cgroup" in line.lower()), out)[-300:]
                note = f"{'no cgroup limits' if level == 2 else 'swap not limited'}: {why}"
                continue
            why = "timed out after 180 s" if code is None else out[-1500:] or f"exit status {code}"
            fix = (f"check that `{os.path.basename(self.binary)} exec --containall --writable-tmpfs --net "
                   f"--network none {self.root} true` works on this node; network namespaces, overlay support "
                   "and `allow container dir = yes` in apptainer.conf are the usual obstacles")
            raise SandboxError(f"could not start an instance: {why}", where=WHERE, fix=fix)
        _LIMIT_LEVEL[self.binary] = (level, note)
        s, applied = self.spec, level < 2
        self.limits = {"cgroup": "apptainer" if applied else None, "pids": s.pids if applied else None,
                       "memory_mb": s.memory_mb if applied else None, "cpus": self._cpus() if applied else None,
                       "swap": "off" if level == 0 else "not limited", "nofile": s.nofile, "nproc": s.nproc,
                       "network": "host" if s.network else "none"}
        if note:
            self.limits["note"] = note
        self._pid = self._instance_pid()
        namespace = pid_namespace(self._pid) if self._pid else None
        if namespace and namespace != pid_namespace(os.getpid()):
            self._namespace = namespace

    def _instance_pid(self) -> int | None:
        """Host pid of the instance's init: from --pid-file, else ``instance list --json``."""
        try:
            return int((self._dir / "instance.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass
        code, out = self._cli([self.binary, "instance", "list", "--json", self.instance], timeout=60)
        try:
            found = json.loads(out[out.index("{"):])["instances"]
            return int(found[0]["pid"]) if code == 0 and found else None
        except (ValueError, KeyError, IndexError, TypeError):
            return None

    def _rlimits(self) -> None:
        """Runs between fork and exec of every apptainer process; the sandbox inherits the rlimits."""
        for which, value in ((resource.RLIMIT_NOFILE, self.spec.nofile), (resource.RLIMIT_NPROC, self.spec.nproc)):
            try:
                resource.setrlimit(which, (value, value))
            except (OSError, ValueError):
                pass

    def _env(self, env: dict[str, str]) -> dict[str, str]:
        return {"PATH": PATH, "HOME": "/root", "LANG": "C.UTF-8", "TERM": "dumb", **self.spec.env, **env}

    # -- shells -----------------------------------------------------------------------------
    def _join(self, *argv: str, env: dict[str, str] | None = None, pwd: str = "/") -> list[str]:
        """``argv`` run inside the instance in ``pwd`` with exactly ``env`` (through ``env -i``:
        apptainer will not set HOME or PATH from ``--env``)."""
        pairs = [f"{k}={v}" for k, v in (env or {"PATH": PATH}).items()]
        privs = ["--no-privs"] if os.geteuid() == 0 else []  # per process: joining does not inherit it
        # --silent: a warning on stderr would land in the shell's protocol stream
        return [self.binary, "--silent", "exec", "--cleanenv", *privs, "--pwd", pwd, f"instance://{self.instance}",
                "/usr/bin/env", "-i", *pairs, *argv]

    def _shell_argv(self, env: dict[str, str]) -> list[str]:
        return self._join("/bin/bash", "--noprofile", "--norc", env=self._env(env), pwd=self.workdir)

    def _shell_popen_kwargs(self, env: dict[str, str]) -> dict:
        return {"env": _cli_env(), "cwd": self._dir, "preexec_fn": self._rlimits}

    def _interrupt(self, shell: Shell) -> None:
        keep = {1} | self._live_shell_pids()
        if self._namespace and self._pid and pid_namespace(self._pid) == self._namespace:
            kill_namespace(self._namespace, keep)
            return
        script_env = {"PATH": PATH, "KEEP": " ".join(map(str, sorted(keep)))}
        self._cli(self._join("bash", "-c", _KILL_INSIDE, env=script_env), timeout=30)

    def end_processes(self) -> None:
        """End every process of the instance but its init and wait; the files stay."""
        self._close_shells()
        self._interrupt(None)

    # -- files ------------------------------------------------------------------------------
    def upload(self, src: Path, dest: str) -> None:
        src, dest = Path(src), norm(dest)
        if not src.exists():
            raise SandboxError(f"nothing to upload at {src}", where="upload", fix="check the path")
        if not src.is_dir():
            return self._put(src, dest)
        for here, dirs, files in os.walk(src):
            target = os.path.normpath(os.path.join(dest, os.path.relpath(here, src)))
            if not self.files.bound(self.files.resolve(target)):  # outside the bound dirs: tar the rest
                self._stream_in(Path(here), target)
                dirs.clear()
                continue
            self.files.mkdir(target)
            for name in files + [d for d in dirs if os.path.islink(os.path.join(here, d))]:
                self._put(Path(here, name), os.path.join(target, name))

    def _put(self, src: Path, dest: str) -> None:
        if not self.files.bound(self.files.resolve(dest)):
            return self._stream_in(src, dest)
        self.files.put(src, dest)

    def _tar_command(self, script: str, path: str) -> list[str]:
        return self._join("bash", "-c", script, "tmax-copy", path)

    def _stream_in(self, src: Path, dest: str) -> None:
        """Through tar inside the sandbox: for paths in the overlay, which the host cannot see."""
        failed = tarpipe.push(self._tar_command, src, dest, self._dir / "upload.log", env=_cli_env(), cwd=self._dir)
        if failed is not None:
            raise SandboxError(f"upload {src} -> {dest} failed: {failed}", where="apptainer upload",
                               fix="write under one of: " + ", ".join(sorted(self.mounts)))

    def download(self, src: str, dest: Path) -> None:
        if not self.files.bound(self.files.resolve(norm(src))):
            return self._stream_out(src, Path(dest))
        self.files.download(src, dest)

    def open_file(self, src: str):
        if not self.files.bound(self.files.resolve(norm(src))):
            with tempfile.TemporaryDirectory(prefix="tmax-read-") as tmp:
                try:
                    self._stream_out(src, Path(tmp) / "file")
                except SandboxError:
                    return None
                path = Path(tmp) / "file"
                return open(path, "rb") if path.is_file() else None  # unlinked on exit; the fd stays
        return self.files.open_file(src)

    def _stream_out(self, src: str, dest: Path) -> None:
        tarpipe.pull(self._tar_command, norm(src), dest, self._dir / "download.log", env=_cli_env(), cwd=self._dir)

    # -- stop -------------------------------------------------------------------------------
    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._close_shells()
        if self._maybe_running and self.instance:
            self._cli([self.binary, "instance", "stop", "--force", self.instance], timeout=60)
            if self._pid and self._namespace:  # the instance's init, if the stop left it alive
                for _ in range(250):
                    if pid_namespace(self._pid) != self._namespace:
                        break
                    try:
                        os.kill(self._pid, signal.SIGKILL)
                    except ProcessLookupError:
                        break
                    time.sleep(0.02)
        shutil.rmtree(self._dir, ignore_errors=True)
        if getattr(self, "_hold", None) is not None:  # ``tmax cache prune`` may remove the rootfs now
            os.close(self._hold)
            self._hold = None
