"""The Sandbox protocol, resource limits, and the backend registry.

A sandbox is four verbs plus a context manager: ``exec`` a command in its persistent
shell, ``upload`` a host file or directory, ``download`` one back, ``close``. Backends are
plain classes registered by name in ``BACKENDS`` (see ``tmax.sandbox``).
"""

from __future__ import annotations

import os
import resource
from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, Field

from tmax.sandbox.shell import ExecResult, Shell


def _host_hard_limit(which: int, cap: int) -> int:
    hard = resource.getrlimit(which)[1]
    return cap if hard == resource.RLIM_INFINITY else min(hard, cap)


class SandboxSpec(BaseModel):
    """Resources and behaviour of one sandbox. Task values (cpus, memory, network) fill it."""

    cpus: float = Field(1.0, gt=0, description="CPU cores (a CFS quota, not pinning).")
    memory_mb: int = Field(2048, gt=0, description="Memory limit; the sandbox is OOM-killed above it.")
    pids: int = Field(1024, gt=0, description="Most processes/threads alive at once (stops fork bombs).")
    storage_mb: int | None = Field(10240, gt=0, description="Disk the sandbox may fill, in MB (None: no limit). "
                                   "bwrap as root: a loop-mounted filesystem of that size; podman as root: a "
                                   "quota in tmax's podman store; rootless podman, docker and unprivileged "
                                   "bwrap: no file may grow past it (RLIMIT_FSIZE); apptainer: not limited.")
    network: bool = Field(False, description="Give the sandbox a network. Off: loopback only.")
    command_timeout_sec: float = Field(600.0, gt=0, description="Default per-command limit of `exec`.")
    output_cap_bytes: int = Field(2_000_000, gt=0, description="Head + tail of a command's output kept.")
    output_limit_bytes: int = Field(64_000_000, gt=0, description="Kill a command that prints more.")
    env: dict[str, str] = Field(default_factory=dict, description="Environment of the shell.")
    writable: list[str] = Field(default_factory=list, description="Directories that must be writable besides "
                                "the workdir (rootfs backends; containers are writable throughout): a separate "
                                "verifier's workspace.")
    nofile: int = Field(default_factory=lambda: _host_hard_limit(resource.RLIMIT_NOFILE, 16384),
                        description="Open-file rlimit; never above the host's hard limit.")
    nproc: int = Field(default_factory=lambda: _host_hard_limit(resource.RLIMIT_NPROC, 16384),
                       description="Process rlimit (per uid); never above the host's hard limit.")


@runtime_checkable
class Sandbox(Protocol):
    """What every backend offers."""

    name: str

    def exec(self, command: str, timeout: float | None = None) -> ExecResult:
        """Run ``command`` in the persistent shell (cwd/env survive). ``timeout`` in seconds."""

    def open_shell(self, env: dict[str, str] | None = None) -> Shell:
        """A fresh, independent shell (for the verifier or the oracle); the caller closes it."""

    def upload(self, src: Path, dest: str) -> None:
        """Copy a host file or directory to ``dest`` in the sandbox (a directory's contents go into ``dest``)."""

    def download(self, src: str, dest: Path) -> None:
        """Copy ``src`` from the sandbox to host path ``dest``."""

    def open_file(self, src: str):
        """Regular file ``src`` of the sandbox opened for binary reading, or None when it is absent
        or not a regular file. No link is followed on the host."""

    def end_processes(self) -> None:
        """End every process started in the sandbox (shells, their children, daemons) and wait
        until none is left; files stay. Called between the agent and the verifier, so nothing
        the agent started can touch verification. Raises SandboxError if the sandbox cannot be
        made usable again."""

    def close(self) -> None:
        """Stop the sandbox and free everything it held; safe to call twice."""

    def __enter__(self) -> "Sandbox": ...

    def __exit__(self, *exc) -> None: ...


class ShellSandbox:
    """Shared plumbing: the main shell, extra shells, default timeout, context manager."""

    name = "sandbox"

    def __init__(self, spec: SandboxSpec):
        self.spec = spec
        self._shells: list[Shell] = []
        self._main: Shell | None = None

    def _shell_argv(self, env: dict[str, str]) -> list[str]:
        raise NotImplementedError

    def _interrupt(self, shell: Shell) -> None:
        raise NotImplementedError

    def _shell_popen_kwargs(self, env: dict[str, str]) -> dict:
        """Extra ``subprocess.Popen`` arguments for a shell process (env, preexec_fn)."""
        return {}

    def open_shell(self, env: dict[str, str] | None = None) -> Shell:
        env = {**self.spec.env, **(env or {})}
        shell = Shell(self._shell_argv(env), self._interrupt, output_cap=self.spec.output_cap_bytes,
                      output_limit=self.spec.output_limit_bytes, popen_kwargs=self._shell_popen_kwargs(env))
        self._shells.append(shell)
        return shell

    def _live_shell_pids(self) -> set[int]:
        return {s.pid_in_sandbox for s in self._shells if s.alive and s.pid_in_sandbox}

    def exec(self, command: str, timeout: float | None = None) -> ExecResult:
        if self._main is None or not self._main.alive:
            self._main = self.open_shell()
        return self._main.run(command, self.spec.command_timeout_sec if timeout is None else timeout)

    def _close_shells(self) -> None:
        for shell in self._shells:
            shell.close()
        self._shells.clear()
        self._main = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):  # last resort; tests and the trial runner always close explicitly
        try:
            self.close()
        except Exception:
            pass


def cache_dir() -> Path:
    """Where tmax keeps base rootfs, verifier tools and exported images (``TMAX_CACHE``)."""
    root = Path(os.environ.get("TMAX_CACHE") or Path.home() / ".cache" / "tmax")  # empty: the default, not cwd
    root.mkdir(parents=True, exist_ok=True)
    return root
