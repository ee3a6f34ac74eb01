"""From a task to something a backend can start: a built image, or an unpacked rootfs.

Container backends get the task's image (built once per content hash, on a local base when
the Dockerfile names an absent registry image). The bwrap and apptainer backends get the same
image unpacked into a directory (cached per image id), plus the image's working directory.
The image is built with podman (daemonless, rootless) for apptainer as well.

Within one process a prepared environment is remembered by the content of the Dockerfile and
its build context, so the many trials of an RL run or an eval reuse it without asking the
container engine again (each ask is a podman process, ~0.2 s per trial otherwise). Tasks that
share an environment verbatim share one image and one rootfs. ``forget_prepared()`` drops the
memory (after images were removed or the base image rebuilt).
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tmax.errors import BuildError
from tmax.sandbox import images
from tmax.sandbox.images import BASE_IMAGE, build_image, export_rootfs, image_exists, image_field
from tmax.tasks import Task


@dataclass
class PreparedEnvironment:
    image: str
    workdir: str = "/"
    rootfs: Path | None = None
    substitutions: list[dict] = field(default_factory=list)
    build_cached: bool = False
    build_s: float = 0.0


_PREPARED: dict[tuple, PreparedEnvironment] = {}
_LOCK = threading.Lock()


def forget_prepared() -> None:
    with _LOCK:
        _PREPARED.clear()


def _content_key(task: Task, backend: str) -> tuple:
    digest = hashlib.sha256()
    if task.dockerfile is not None:
        digest.update(task.dockerfile.read_bytes())
        context = task.build_context
        for path in sorted(p for p in context.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(context)).encode() + b"\0" + path.read_bytes() + b"\0")
    else:
        digest.update(task.config.environment.docker_image.encode())
    return backend, digest.hexdigest(), images.BASE_GENERATION


def prepare_environment(task: Task, backend: str, log_path: Path | None = None) -> PreparedEnvironment:
    """Build (or reuse) the task's image; unpack it for bwrap and apptainer."""
    start = time.monotonic()
    key = _content_key(task, backend)
    with _LOCK:
        known = _PREPARED.get(key)
    if known is not None and (known.rootfs is None or known.rootfs.is_dir()):
        return PreparedEnvironment(known.image, known.workdir, known.rootfs, known.substitutions, True,
                                   time.monotonic() - start)
    env = _prepare(task, backend, log_path)
    with _LOCK:
        _PREPARED[key] = env
    env.build_s = time.monotonic() - start
    return env


def _prepare(task: Task, backend: str, log_path: Path | None) -> PreparedEnvironment:
    engine = "docker" if backend == "docker" else "podman"
    if task.dockerfile is not None:
        built = build_image(task.name, task.dockerfile, task.build_context, engine=engine,
                            timeout=task.config.environment.build_timeout_sec, log_path=log_path)
        image, subs, cached = built.tag, built.substitutions, built.cached
    else:
        image, subs, cached = task.config.environment.docker_image, [], True
        if not image_exists(image, engine):
            raise BuildError(f"prebuilt image {image} is not available locally", where=f"{task.path}/task.toml",
                             fix=f"load it with `{engine} load`, or add environment/Dockerfile (base: {BASE_IMAGE})")
    env = PreparedEnvironment(image, image_field(image, "{{.Config.WorkingDir}}", engine) or "/", None, subs, cached)
    if backend in ("bwrap", "apptainer"):
        env.rootfs = export_rootfs(image, engine)
    return env
