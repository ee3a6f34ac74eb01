"""Container sandboxes through the podman (default) or docker CLI.

One container per trial, started detached with a keep-alive process; the agent's commands
go to a persistent bash started with ``<cli> exec -i``.

Isolates: filesystem (the container's own root; nothing of the host is mounted), processes
(own PID namespace), network (``--network none`` unless the task allows internet: then the
engine's default bridge/slirp network with outbound access), CPU (``--cpus`` quota), memory
(``--memory``, swap disabled), process count (``--pids-limit``, stops fork bombs), open files
and processes per uid (``--ulimit``, capped at the host's hard limits).

Disk: podman as root keeps its containers in tmax's own store (``podman_store``: btrfs on a
loop-mounted sparse file); each container's writable layer is capped at ``storage_mb``
(writes past it fail inside with EDQUOT), so the host loses at most that much per sandbox.
Where that store cannot be had (rootless podman, no btrfs, ``TMAX_PODMAN_STORE=off``) and for
docker, ``storage_mb`` only caps each file's size (``RLIMIT_FSIZE``): many files can still fill
the engine's disk. ``limits["storage"]`` says which applies.

Does not isolate: the kernel (a kernel exploit escapes any container), and with ``network=True``
anything the host can reach. Rootful podman runs the agent as real root inside user-less
namespaces; run rootless podman for a second barrier.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

from tmax.errors import SandboxError
from tmax.sandbox.base import SandboxSpec, ShellSandbox
from tmax.sandbox import podman_store
from tmax.sandbox.container_cli import disk_quota, engine_argv
from tmax.sandbox.procs import kill_namespace, owner_alive, owner_token, pid_namespace, processes_in
from tmax.sandbox.shell import Shell

# Children of the container's init at start: the keep-alive `sleep infinity` (pure bash, no tools).
_LIST_KEEPALIVE = ('for f in /proc/[0-9]*/stat; do read -r l < "$f" 2>/dev/null || continue; '
                   'r=${l##*) }; set -- $r; [ "$2" = 1 ] && echo "${f//[^0-9]/}"; done; true')


class ContainerSandbox(ShellSandbox):
    """A podman/docker container with a persistent shell."""

    def __init__(self, image: str, spec: SandboxSpec | None = None, *, engine: str = "podman",
                 label: str = "sandbox"):
        super().__init__(spec or SandboxSpec())
        self.name = engine
        self.engine, self.image = engine, image
        if not shutil.which(engine):
            raise SandboxError(f"{engine} is not installed", where=f"sandbox backend `{engine}`",
                               fix=f"apt-get install -y {engine}, or choose --sandbox bwrap")
        self.cli = list(engine_argv(engine))
        self.container = f"tmax-{re.sub(r'[^a-z0-9-]+', '-', label.lower())[:40]}-{secrets.token_hex(5)}"
        self._namespace: str | None = None
        self._init_pid: int | None = None
        self._closed = False
        self._keep = {1}
        self._subvolume: int | None = None
        s = self.spec
        quota = bool(s.storage_mb) and disk_quota(engine)
        cmd = [*self.cli, "run", "-d", "--init", "--name", self.container, "--label", "tmax.sandbox=1",
               "--label", f"tmax.owner={owner_token()}",
               f"--cpus={s.cpus}", f"--memory={s.memory_mb}m", f"--memory-swap={s.memory_mb}m",
               f"--pids-limit={s.pids}", "--ulimit", f"nofile={s.nofile}:{s.nofile}",
               "--ulimit", f"nproc={s.nproc}:{s.nproc}", "--hostname", "sandbox"]
        if s.storage_mb and not quota:  # no total can be set: at least no file grows past it
            cmd += ["--ulimit", f"fsize={s.storage_mb << 20}:{s.storage_mb << 20}"]
        if not s.network:
            cmd += ["--network", "none"]
        pidfile = Path(tempfile.gettempdir()) / f"{self.container}.pid"
        if engine == "podman":  # the init's host pid without a `podman inspect` (~0.1 s) later
            cmd += ["--pidfile", str(pidfile)]
        proc = subprocess.run([*cmd, image, "sleep", "infinity"], capture_output=True, text=True)
        self._read_pidfile(pidfile)
        if proc.returncode != 0:
            self._closed = True
            missing = "image not known" in proc.stderr or "no such image" in proc.stderr.lower()
            raise SandboxError(f"could not start container from {image}: {proc.stderr.strip()[-1500:]}",
                               where=f"{engine} run",
                               fix="build the task image (tmax run builds it) or run `tmax images bootstrap`"
                               if missing else f"check `{engine} info`; see DESIGN.md for host quirks")
        self.limits = {"storage": self._storage(quota)}
        self._find_keepalive()

    def _read_pidfile(self, pidfile: Path) -> None:
        try:
            pid = pidfile.read_text().strip()
            pidfile.unlink()
        except OSError:
            return
        if pid.isdigit() and int(pid) > 0:
            self._init_pid, self._namespace = int(pid), pid_namespace(int(pid))

    def _storage(self, quota: bool) -> str:
        """Cap the container's writable layer (before any command of the agent's runs); says how
        the disk is limited."""
        mb = self.spec.storage_mb
        if not mb:
            return "not limited"
        if not quota:
            why = podman_store.store().why if self.engine == "podman" else "docker has no per-container quota here"
            return f"files up to {mb} MB each; no total ({why or 'TMAX_PODMAN_ARGS names its own --root'})"
        try:
            self._pid_namespace()
            if self._init_pid is None:
                raise SandboxError("the container's init has no pid", where=f"{self.engine} inspect")
            self._subvolume = podman_store.subvolume_of(self._init_pid)
            podman_store.limit(self._subvolume, mb)
        except SandboxError:
            self.close()
            raise
        return f"{mb} MB quota (btrfs qgroup)"

    def _find_keepalive(self) -> None:
        self._main = self.open_shell()
        found = self._main.run(_LIST_KEEPALIVE, 30).output.split()
        self._keep = {1} | {int(p) for p in found if p.isdigit()}

    def _shell_argv(self, env: dict[str, str]) -> list[str]:
        env_args = [a for k, v in env.items() for a in ("-e", f"{k}={v}")]
        return [*self.cli, "exec", "-i", *env_args, self.container, "/bin/bash", "--noprofile", "--norc"]

    def _pid_namespace(self) -> str | None:
        if self._namespace is None:
            out = subprocess.run([*self.cli, "inspect", "--format", "{{.State.Pid}}", self.container],
                                 capture_output=True, text=True).stdout.strip()
            if out.isdigit() and int(out) > 0:
                self._init_pid, self._namespace = int(out), pid_namespace(int(out))
        return self._namespace

    def namespace_pid(self) -> int | None:
        """Host pid of the container's init (engine on this host): its namespaces are the
        container's (``tmax.sandbox.portal``)."""
        return self._init_pid if self._pid_namespace() and self._alive() else None

    def _alive(self) -> bool:
        """The container's init still runs (checked in the host's /proc, no CLI call)."""
        return bool(self._init_pid and self._namespace and pid_namespace(self._init_pid) == self._namespace)

    def image_changes(self) -> dict[str, list[str]]:
        """Paths changed, added and deleted against the image (``podman diff``): the verifier's
        tamper check (``tmax.trial.tamper``). Directories are listed as changed when a file in
        them is."""
        proc = subprocess.run([*self.cli, "diff", "--format", "json", self.container], capture_output=True,
                              text=True)
        if proc.returncode != 0:
            raise SandboxError(f"{self.engine} diff failed: {proc.stderr.strip()[-500:]}", where=self.container)
        data = json.loads(proc.stdout or "{}")
        return {k: list(data.get(k) or []) for k in ("changed", "added", "deleted")}

    def end_processes(self) -> None:
        """End every process of the container but its init and keep-alive (the agent's shells,
        their children, daemons it left) and wait until none is left; the files stay. When the
        agent ended the container itself, or processes keep coming, the container is stopped
        and started again: its writable layer stays, no process of the agent's survives."""
        self._close_shells()
        namespace = self._pid_namespace()
        if namespace and self._alive():
            kill_namespace(namespace, self._keep)
            if self._alive() and all(inner in self._keep for inner in processes_in(namespace).values()):
                return
        subprocess.run([*self.cli, "stop", "-t", "0", self.container], capture_output=True)
        proc = subprocess.run([*self.cli, "start", self.container], capture_output=True, text=True)
        if proc.returncode != 0:
            raise SandboxError(f"could not start container {self.container} again: {proc.stderr.strip()[-800:]}",
                               where=f"{self.engine} start")
        self._namespace = self._init_pid = None
        self._find_keepalive()

    def _interrupt(self, shell: Shell) -> None:
        keep = self._keep | self._live_shell_pids()
        namespace = self._pid_namespace()
        if namespace:
            kill_namespace(namespace, keep)
        else:  # engine on another host (docker desktop): kill from inside; shells restart
            subprocess.run([*self.cli, "exec", self.container, "bash", "-c", "kill -9 -1"],
                           capture_output=True, timeout=30)

    def upload(self, src: Path, dest: str) -> None:
        src = Path(src)
        if not src.exists():
            raise SandboxError(f"nothing to upload at {src}", where="upload", fix="check the path")
        source = f"{src}/." if src.is_dir() else str(src)
        cp = [*self.cli, "cp", source, f"{self.container}:{dest}"]
        proc = subprocess.run(cp, capture_output=True, text=True)
        if proc.returncode != 0:  # usually a missing parent dir: create it and copy once more
            parent = dest if src.is_dir() else str(Path(dest).parent)
            subprocess.run([*self.cli, "exec", self.container, "mkdir", "-p", parent], capture_output=True)
            proc = subprocess.run(cp, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SandboxError(f"upload {src} -> {dest} failed: {proc.stderr.strip()}", where=f"{self.engine} cp")

    def download(self, src: str, dest: Path) -> None:
        Path(dest).parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([*self.cli, "cp", f"{self.container}:{src}", str(dest)], capture_output=True, text=True)
        if proc.returncode != 0:
            raise SandboxError(f"download {src} failed: {proc.stderr.strip()}", where=f"{self.engine} cp")

    def open_file(self, src: str):
        """Copied out with ``cp`` (which resolves paths inside the container), then opened
        here unless the copy is anything but a regular file."""
        tmp = Path(tempfile.mkdtemp(prefix="tmax-read-"))
        try:
            try:
                self.download(src, tmp / "file")
            except SandboxError:
                return None
            path = tmp / "file"
            if path.is_symlink() or not path.is_file():
                return None
            return open(path, "rb")  # the dir goes below; the open handle keeps the data
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._close_shells()
        if self._subvolume is not None and not podman_store.store().simple:
            # full qgroups: removing a capped subvolume costs seconds of kernel time, so the cap
            # is lifted first -- once the container is stopped and nothing can write any more
            subprocess.run([*self.cli, "stop", "-t", "0", self.container], capture_output=True)
            try:
                podman_store.limit(self._subvolume, None)
            except SandboxError:
                pass
        subprocess.run([*self.cli, "rm", "-f", "-t", "0", self.container], capture_output=True)


def prune(engine: str = "podman") -> int:
    """Remove containers whose tmax process is gone (killed before it could close them); those
    of live tmax processes, other jobs' included, stay."""
    cli = list(engine_argv(engine))
    listed = subprocess.run([*cli, "ps", "-a", "--filter", "label=tmax.sandbox=1", "--format",
                             '{{.ID}} {{index .Labels "tmax.owner"}}'], capture_output=True, text=True).stdout
    ids = [cid for cid, _, owner in (line.partition(" ") for line in listed.splitlines() if line.strip())
           if not owner_alive(owner.strip())]
    if ids:
        subprocess.run([*cli, "rm", "-f", "-t", "0", *ids], capture_output=True)
    return len(ids)
