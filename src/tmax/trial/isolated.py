"""The verifier in a fresh sandbox over the agent's workspace (Harbor's separate verifier).

A task asks for it (``[verifier] environment_mode = "separate"``, a ``[verifier.environment]``,
per step too) or the run does (``--isolated-verifier``). Then nothing the agent left in its
sandbox -- files outside the workspace, a changed ``/usr/bin/python3``, a poisoned
``sitecustomize`` -- reaches the tests:

1. The verifier's image is prepared with the agent's (``prepare_verifier_environment``):
   ``tests/Dockerfile`` (the image holds ``/tests``), a ``docker_image``, or the agent's own.
2. After the agent's processes have ended, each workspace path (``VerifierEnvironment
   .artifacts``: ``/logs/artifacts`` and the task's ``artifacts``; ``--isolated-verifier``
   on a task that declares none takes its working directory) is copied out of the agent's
   sandbox, absent ones skipped as Harbor does. The copy is sanitized through tar's ``data``
   filter: no device or fifo, no set-id bit, no link leaving the path (a link to a sibling of
   the path is refused as well).
3. A fresh sandbox of the verifier's image starts, each path is replaced by its copy, and
   ``tmax.trial.verifier.run_verifier`` runs there.

A workspace larger than the verifier sandbox's disk quota is a failure the agent caused.
"""

from __future__ import annotations

import dataclasses
import shlex
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from tmax.errors import SandboxError, VerifierError
from tmax.sandbox import SandboxSpec, prepare_environment, start_sandbox
from tmax.sandbox.base import Sandbox, cache_dir
from tmax.tasks import Task
from tmax.tasks.harbor_format import ARTIFACTS_DIR, verifier_network
from tmax.trial.verifier import VerifierResult, run_verifier


def _verifier_task(task: Task) -> Task:
    """The task seen as its verifier's environment (what ``prepare_environment`` builds)."""
    venv = task.verifier_env
    env = venv.config.model_copy(update={"docker_image": venv.docker_image if not venv.dockerfile else None})
    return dataclasses.replace(
        task, name=f"{task.short_name}-verifier" if venv.tests_in_image else task.name,
        dockerfile=venv.dockerfile, build_context=venv.dockerfile.parent if venv.dockerfile else task.build_context,
        config=task.config.model_copy(update={"environment": env}))


def verifier_spec(task: Task) -> SandboxSpec:
    venv = task.verifier_env
    step = task.step.config if task.step else None
    return SandboxSpec(cpus=venv.config.cpus, memory_mb=venv.config.memory_mb,
                       network=verifier_network(task.config, step, separate=True).network,
                       storage_mb=venv.config.storage_mb or SandboxSpec.model_fields["storage_mb"].default,
                       command_timeout_sec=task.config.verifier.timeout_sec)


def verifier_starter(task: Task, backend: str, log_path: Path | None = None) -> Callable[[], Sandbox]:
    """Prepare (build once) the verifier's environment; returns what starts a fresh sandbox of it."""
    view = _verifier_task(task)
    env = prepare_environment(view, backend, log_path)
    spec = verifier_spec(task)

    def start(writable: list[str] | None = None) -> Sandbox:
        return start_sandbox(backend, env, spec.model_copy(update={"writable": writable or []}),
                             label=f"{task.short_name}-verifier")

    return start


def _sanitize(raw: Path, clean: Path) -> list[str]:
    """Copy ``raw`` to ``clean / "x"`` through tar's ``data`` filter, with the copy itself as the
    destination, so no link may point out of it; returns the refused members."""
    refused: list[str] = []

    def keep(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
        try:
            return tarfile.data_filter(member, dest)
        except tarfile.FilterError:
            refused.append(member.name)
            return None

    target = clean / "x" if raw.is_dir() else clean
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=clean.parent) as buf:
        with tarfile.open(fileobj=buf, mode="w") as tar:
            tar.add(raw, arcname="." if raw.is_dir() else "x")  # links are stored as links, never followed
        buf.seek(0)
        with tarfile.open(fileobj=buf) as tar:
            tar.extractall(target, filter=keep)
    return refused


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def collect_workspace(sandbox: Sandbox, paths: list[str], staging: Path, limit_mb: int | None) -> tuple[list, list]:
    """Copy ``paths`` out of the agent's sandbox into ``staging``; returns ([(path, copy)], notes)."""
    copies, notes, total = [], [], 0
    for i, path in enumerate(paths):
        raw = staging / f"raw{i}"
        try:
            sandbox.download(path, raw)
        except SandboxError:
            if path != ARTIFACTS_DIR:  # Harbor's convention dir is usually absent: no news
                notes.append(f"workspace path {path} is absent in the agent's sandbox; skipped")
            continue
        total += _size(raw)
        if limit_mb is not None and total > limit_mb << 20:
            raise VerifierError(f"the workspace is larger than the verifier sandbox's {limit_mb} MB",
                                where=path, fix="keep the outputs the tests read small")
        clean = staging / f"clean{i}"
        clean.mkdir()
        refused = _sanitize(raw, clean)
        shutil.rmtree(raw, ignore_errors=True) if raw.is_dir() else raw.unlink()
        if refused:
            notes.append(f"workspace path {path}: left out {len(refused)} special file(s) or outside link(s), "
                         f"e.g. {refused[0]}")
        copies.append((path, clean / "x"))
    return copies, notes


def writable_paths(copies: list) -> list[str]:
    """Where the copies go must be writable in the verifier's sandbox: a directory itself, the
    parent of a file."""
    out = []
    for path, copy in copies:
        target = path if copy.is_dir() else str(Path(path).parent)
        if target == "/":
            raise VerifierError(f"workspace file {path} sits directly under /", where="artifacts",
                                fix="collect outputs in a directory, e.g. /app/out")
        out.append(target)
    return out


def restore_workspace(sandbox: Sandbox, copies: list) -> None:
    """Replace each path in the verifier's sandbox with its copy (Harbor empties a dir first)."""
    for path, copy in copies:
        if not copy.exists() and not copy.is_symlink():
            continue
        target = shlex.quote(path)
        parent = shlex.quote(str(Path(path).parent))
        # a directory is emptied, not removed: on rootfs backends it is a mount point
        prep = f"mkdir -p -- {target} && find {target} -mindepth 1 -maxdepth 1 -exec rm -rf -- {{}} +" \
            if copy.is_dir() else f"mkdir -p -- {parent} && rm -rf -- {target}"
        if sandbox.exec(prep, 60).exit_code != 0:
            raise SandboxError(f"could not prepare {path} in the verifier's sandbox", where="restore_workspace")
        sandbox.upload(copy, path)


def run_isolated_verifier(agent_sandbox: Sandbox, task: Task, out_dir: Path,
                          start: Callable[[], Sandbox]) -> VerifierResult:
    """Copy the workspace out of ``agent_sandbox``, verify in a fresh sandbox from ``start``."""
    venv = task.verifier_env
    with tempfile.TemporaryDirectory(prefix="tmax-workspace-", dir=cache_dir()) as tmp:
        copies, notes = collect_workspace(agent_sandbox, venv.artifacts, Path(tmp), verifier_spec(task).storage_mb)
        with start(writable_paths(copies)) as sandbox:
            restore_workspace(sandbox, copies)
            result = run_verifier(sandbox, task, out_dir)
    result.warnings += notes
    return result
