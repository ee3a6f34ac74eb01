"""tmax's sandboxes as Harbor environments: ``harbor run -e tmax.harbor:Bwrap`` (or ``:Podman``).

Harbor drives the trial (agent, verifier, trial dir); tmax supplies the sandbox:

- ``start`` builds the task's ``environment/Dockerfile`` the way ``tmax run`` does (registry
  images the host lacks, e.g. ``ubuntu:24.04`` or ``python:3.11-slim``, resolve to tmax's local
  Debian base, so nothing is pulled), unpacks it for bwrap, and starts the sandbox with the
  task's cpus, memory, storage and network (Harbor's ``no-network`` policy: loopback only).
- ``exec`` runs each command in a subshell of the sandbox's persistent shell (no process start
  per command; Harbor's semantics are kept: ``cwd``, ``env`` and ``user`` apply to that command
  only, and nothing it sets leaks into the next). Concurrent calls get shells of their own.
- The image's ``ENTRYPOINT`` runs in the background at start with ``sleep infinity`` as its
  arguments, as under Harbor's docker (``command: sleep infinity``), so services it starts are up.
- The offline verifier layer: when Harbor uploads ``tests/`` to ``/tests``, every process the
  agent left is ended first (none of them may write the reward) and the entrypoint starts again
  (the task's services, fresh); the same happens before Harbor reads ``/logs/verifier``, so
  nothing started during the tests can change the reward after them. When the tests call a tool
  the layer stands in for (uv, uvx, pytest, curl, apt-get, pip) a fresh copy of the layer goes
  to ``/opt/tmax-verifier``; commands that run ``/tests/...`` get its ``bin/`` first on PATH.
  So Terminal-Bench 2 verifiers that install pytest with uvx score offline, as under ``tmax run``.

Not supported (each refused with the reason at construction): docker-compose environments,
GPUs/TPUs, Windows, network allowlists.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import tempfile
import threading
from pathlib import Path

from harbor.environments.base import BaseEnvironment, ExecResult
from harbor.environments.capabilities import EnvironmentCapabilities
from harbor.models.task.config import NetworkMode

from tmax.sandbox import PreparedEnvironment, SandboxSpec, start_sandbox
from tmax.sandbox.images import BASE_IMAGE, build_image, export_rootfs, image_exists, image_field
from tmax.trial.layer import LAYER_PATH, prepare_layer, verifier_env
from tmax.trial.verifier import _LAYER_TOOLS

TESTS_DIR = "/tests"


def _mentions_layer_tools(source: Path) -> bool:
    files = [source] if source.is_file() else [p for p in source.rglob("*") if p.is_file()]
    return any(p.stat().st_size < 1_000_000 and _LAYER_TOOLS.search(p.read_text(errors="replace")) for p in files)


def wrap_command(command: str, *, cwd: str | None, env: dict[str, str] | None, user: str | int | None) -> str:
    """One Harbor exec as a subshell: its cwd, env and user stay inside it."""
    inner = command
    if user not in (None, "root", 0, "0"):
        inner = f"runuser -u {shlex.quote(str(user))} -- bash -c {shlex.quote(command)}"
    parts = [f"cd {shlex.quote(cwd)} || exit 1"] if cwd else []
    parts += [f"export {k}={shlex.quote(v)}" for k, v in (env or {}).items()]
    return "(\n" + "\n".join([*parts, inner]) + "\n)"


class TmaxEnvironment(BaseEnvironment):
    """A Harbor environment over one tmax sandbox backend (``backend``, set by subclasses)."""

    backend = "bwrap"

    @staticmethod
    def type() -> str:
        return "tmax"

    @property
    def capabilities(self) -> EnvironmentCapabilities:
        return EnvironmentCapabilities(disable_internet=True)

    def _validate_definition(self):
        dockerfile = self.environment_dir / "Dockerfile"
        if not dockerfile.is_file() and not self.task_env_config.docker_image:
            compose = (self.environment_dir / "docker-compose.yaml").is_file()
            raise FileNotFoundError(
                f"{self.environment_dir}: tmax's {self.backend} environment needs environment/Dockerfile or "
                f"[environment] docker_image" + ("; docker-compose environments are not supported "
                                                 "(use -e docker or -e podman)" if compose else ""))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sandbox = None
        self._prepared: PreparedEnvironment | None = None
        self._main_lock = threading.Lock()
        self._in_verifier = False
        self._entrypoint: list[str] = []

    # -- start / stop -------------------------------------------------------------------------
    def _prepare(self) -> PreparedEnvironment:
        engine = "podman"
        dockerfile = self.environment_dir / "Dockerfile"
        log = self.trial_paths.trial_dir / "environment" / "build.log"
        if dockerfile.is_file():
            built = build_image(self.environment_name, dockerfile, self.environment_dir, engine=engine,
                                timeout=self.task_env_config.build_timeout_sec, log_path=log)
            image, subs = built.tag, built.substitutions
        else:
            image, subs = self.task_env_config.docker_image, []
            if not image_exists(image, engine):
                raise FileNotFoundError(f"prebuilt image {image} is not available locally; load it with "
                                        f"`podman load`, or add environment/Dockerfile (base: {BASE_IMAGE})")
        workdir = self.task_env_config.workdir or image_field(image, "{{.Config.WorkingDir}}", engine) or "/"
        self._entrypoint = json.loads(image_field(image, "{{json .Config.Entrypoint}}", engine) or "null") or []
        rootfs = export_rootfs(image, engine) if self.backend in ("bwrap", "apptainer") else None
        return PreparedEnvironment(image, workdir, rootfs, subs)

    def _spec(self) -> SandboxSpec:
        cfg = self.task_env_config
        default = SandboxSpec()
        return SandboxSpec(cpus=self._effective_cpus or default.cpus,
                           memory_mb=self._effective_memory_mb or default.memory_mb,
                           storage_mb=self._effective_storage_mb or default.storage_mb,
                           network=self._network_policy.network_mode == NetworkMode.PUBLIC,
                           env=dict(cfg.env or {}))

    def _start(self) -> None:
        self._prepared = self._prepare()
        self._sandbox = start_sandbox(self.backend, self._prepared, self._spec(), label=self.environment_name)
        result = self._sandbox.exec("mkdir -p /logs/agent /logs/verifier /logs/artifacts", 60)
        if result.exit_code != 0:
            raise RuntimeError(f"could not create /logs in the sandbox: {result.output[-500:]}")
        self._start_entrypoint()

    def _start_entrypoint(self) -> None:
        """The image's ENTRYPOINT in the background (its output in /tmp/tmax-entrypoint.log)."""
        if self._entrypoint:
            argv = " ".join(shlex.quote(a) for a in [*self._entrypoint, "sleep", "infinity"])
            self.sandbox.exec(f"(setsid {argv} > /tmp/tmax-entrypoint.log 2>&1 < /dev/null &)", 60)

    def _fresh_processes(self) -> None:
        """End every process in the sandbox, then start the entrypoint again."""
        self.sandbox.end_processes()
        self._start_entrypoint()

    async def start(self, force_build: bool) -> None:
        await asyncio.to_thread(self._start)
        await self._upload_environment_dir_after_start()

    async def stop(self, delete: bool):
        if self._sandbox is not None:
            await asyncio.to_thread(self._sandbox.close)
            self._sandbox = None

    @property
    def workdir(self) -> str:
        """The image's working directory (the task's ``workdir`` when set)."""
        return self._prepared.workdir if self._prepared else (self.task_env_config.workdir or "/")

    @property
    def sandbox(self):
        """The tmax sandbox (``tmax.sandbox.Sandbox``): tmax's agent uses its persistent shell."""
        if self._sandbox is None:
            raise RuntimeError(f"{self.session_id}: the environment is not started")
        return self._sandbox

    # -- exec ----------------------------------------------------------------------------------
    def _exec(self, command: str, timeout: float | None) -> ExecResult:
        sandbox = self.sandbox
        if self._main_lock.acquire(blocking=False):
            try:
                result = sandbox.exec(command, timeout)
            finally:
                self._main_lock.release()
        else:  # the main shell is busy (a concurrent exec): a shell of its own
            shell = sandbox.open_shell()
            try:
                result = shell.run(command, timeout)
            finally:
                shell.close()
        if result.timed_out:
            raise RuntimeError(f"Command timed out after {timeout} seconds")
        return ExecResult(stdout=result.output, stderr="",
                          return_code=result.exit_code if result.exit_code is not None else 137)

    async def exec(self, command: str, cwd: str | None = None, env: dict[str, str] | None = None,
                   timeout_sec: int | None = None, user: str | int | None = None) -> ExecResult:
        env = self._merge_env(env)
        if self._in_verifier and f"{TESTS_DIR}/" in command:
            env = {**verifier_env(), **(env or {})}
        script = wrap_command(command, cwd=cwd, env=env, user=self._resolve_user(user))
        return await asyncio.to_thread(self._exec, script, float(timeout_sec) if timeout_sec else 24 * 3600.0)

    # -- files ---------------------------------------------------------------------------------
    def _enter_verifier(self, tests_source: Path) -> None:
        """Before the tests land: end the agent's processes, then a fresh verifier layer."""
        self._fresh_processes()
        self._in_verifier = True
        self.sandbox.exec(f"rm -rf {LAYER_PATH}", 60)
        if _mentions_layer_tools(tests_source):
            self.sandbox.upload(prepare_layer(), LAYER_PATH)

    def _upload(self, source: Path, target: str) -> None:
        if target.rstrip("/") == TESTS_DIR and source.is_dir():
            self._enter_verifier(source)
        self.sandbox.upload(source, target)

    async def upload_file(self, source_path: Path | str, target_path: str):
        await asyncio.to_thread(self.sandbox.upload, Path(source_path), target_path)

    async def upload_dir(self, source_dir: Path | str, target_dir: str):
        await asyncio.to_thread(self._upload, Path(source_dir), target_dir)

    def _download(self, source: str, target: Path, is_dir: bool) -> None:
        if self._in_verifier and source.rstrip("/") == "/logs/verifier":
            self._fresh_processes()  # nothing the tests started may rewrite the reward now
            self._in_verifier = False
        if not is_dir:
            self.sandbox.download(source, target)
            return
        with tempfile.TemporaryDirectory(prefix="tmax-harbor-") as tmp:
            staged = Path(tmp) / "dir"
            self.sandbox.download(source, staged)
            target.mkdir(parents=True, exist_ok=True)
            # links the sandbox made are left behind: Harbor reads the trial dir on the host
            shutil.copytree(staged, target, dirs_exist_ok=True,
                            ignore=lambda d, names: [n for n in names if os.path.islink(os.path.join(d, n))])

    async def download_file(self, source_path: str, target_path: Path | str):
        await asyncio.to_thread(self._download, source_path, Path(target_path), False)

    async def download_dir(self, source_dir: str, target_dir: Path | str):
        await asyncio.to_thread(self._download, source_dir, Path(target_dir), True)


class Bwrap(TmaxEnvironment):
    """bubblewrap over the task image's unpacked rootfs (see tmax.sandbox.bwrap)."""

    backend = "bwrap"

    @staticmethod
    def type() -> str:
        return "tmax-bwrap"


class Podman(TmaxEnvironment):
    """A podman container with tmax's offline image builds and limits (see tmax.sandbox.container)."""

    backend = "podman"

    @staticmethod
    def type() -> str:
        return "tmax-podman"
