"""Offline base images, the registry alias map, and task image builds.

No registry is reachable on many research machines (and none on ours), so tmax builds its
own base image from Debian with debootstrap and imports it into podman. A task whose
Dockerfile says ``FROM ubuntu:24.04`` or ``FROM python:3.13-slim-bookworm`` is built on that
base when the named image is not present locally; the substitution is recorded in the
trial's ``result.json``. Task images are tagged by a hash of their Dockerfile and build
context, so an unchanged task is built once and later trials start at once.

The base rootfs directory is kept as well: the bwrap backend uses it as its root.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tmax.errors import BuildError, SandboxError
from tmax.io import file_lock
from tmax.sandbox import hosttools
from tmax.sandbox.base import cache_dir
from tmax.sandbox.container_cli import engine_argv
from tmax.sandbox.layered import mark_imported, rootfs_from_base

BASE_IMAGE = "localhost/tmax/base:bookworm"
DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = os.environ.get("TMAX_DEBIAN_MIRROR", "http://deb.debian.org/debian")
BASE_PACKAGES = [
    "python3", "python3-pip", "python3-venv", "ca-certificates", "curl", "wget", "procps", "less",
    "file", "git", "xz-utils", "bzip2", "unzip", "patch", "tar", "gzip", "sed", "gawk", "grep",
    "findutils", "diffutils", "bc", "jq", "sqlite3", "iproute2", "netcat-openbsd",
    # what generated tasks build on, offline: C toolchain, binary tools, images and arrays in Python
    "gcc", "libc6-dev", "make", "binutils", "python3-pil", "python3-numpy",
]
_STAMP = "etc/tmax-base-packages"  # the package list a rootfs was built with; a change rebuilds it
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")

ALIASES: dict[str, str] = {
    "ubuntu:*": BASE_IMAGE, "ubuntu": BASE_IMAGE,
    "debian:*": BASE_IMAGE, "debian": BASE_IMAGE,
    "python:*": BASE_IMAGE, "python": BASE_IMAGE,
    "buildpack-deps:*": BASE_IMAGE,
    "ghcr.io/laude-institute/t-bench/*": BASE_IMAGE,
    "docker.io/library/ubuntu:*": BASE_IMAGE,
    "docker.io/library/debian:*": BASE_IMAGE,
    "docker.io/library/python:*": BASE_IMAGE,
    # Docker Hub's official images through Amazon's public mirror (ECR Public), as task collections name them
    "public.ecr.aws/docker/library/ubuntu:*": BASE_IMAGE,
    "public.ecr.aws/docker/library/debian:*": BASE_IMAGE,
    "public.ecr.aws/docker/library/python:*": BASE_IMAGE,
}
"""Image patterns (fnmatch) that resolve to a local base when the image itself is absent."""


BASE_GENERATION = 0
"""Moves on each time ``bootstrap`` rebuilds the base; prepared environments remember it."""


def base_rootfs() -> Path:
    return cache_dir() / "rootfs" / "base"


def image_field(image: str, template: str, engine: str = "podman") -> str:
    """One field of ``image``'s metadata (a Go template such as ``{{.Id}}``); "" if absent."""
    return subprocess.run([*engine_argv(engine), "image", "inspect", "--format", template, image],
                          capture_output=True, text=True).stdout.strip()


def image_exists(image: str, engine: str = "podman") -> bool:
    if not shutil.which(engine):
        return False
    out = subprocess.run([*engine_argv(engine), "image", "exists" if engine == "podman" else "inspect", image],
                         capture_output=True)
    return out.returncode == 0


def _configure_rootfs(root: Path, host_ca: bool) -> None:
    """Make the Debian rootfs behave like the images task authors expect."""
    for marker in root.glob("usr/lib/python3*/EXTERNALLY-MANAGED"):
        marker.unlink()  # python:* images let `pip install` write to the system
    for name, target in (("python", "python3"), ("pip", "pip3")):
        link = root / "usr/bin" / name
        if not link.exists():
            link.symlink_to(target)
    if host_ca and HOST_CA_BUNDLE.is_file():
        # Trust what the host trusts (TLS-intercepting proxies); survives update-ca-certificates.
        dest = root / "usr/local/share/ca-certificates/tmax-host-bundle.crt"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(HOST_CA_BUNDLE, dest)
        subprocess.run([hosttools.tool("chroot"), str(root), "update-ca-certificates"], check=True, capture_output=True)
    shutil.rmtree(root / "var/cache/apt/archives", ignore_errors=True)
    (root / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)
    # The sandboxes' standard mount points (tmax.sandbox.rootfs.WRITABLE): present, bwrap binds
    # the root in one piece (~2-3 ms less per start than entry by entry).
    for d in ("app", "logs", "tests", "solution", "opt/tmax-verifier"):
        (root / d).mkdir(parents=True, exist_ok=True)


def bootstrap(*, force: bool = False, host_ca: bool = True, engine: str = "podman", log=print) -> str:
    """Build the base rootfs with debootstrap and import it as ``BASE_IMAGE``. Idempotent."""
    root = base_rootfs()
    stamp = root / _STAMP
    wanted = "\n".join(BASE_PACKAGES) + "\n"
    stale = not (root / "usr/bin/python3").exists() or not stamp.exists() or stamp.read_text() != wanted
    if force or stale:
        force = True  # a new rootfs means a new image too
        if os.geteuid() != 0:
            raise SandboxError("debootstrap needs root", where="tmax images bootstrap",
                               fix="run it as root (sudo), or import a prepared rootfs with `podman import`")
        if not hosttools.which("debootstrap"):
            raise SandboxError("debootstrap is not installed", where="tmax images bootstrap",
                               fix="apt-get install -y debootstrap")
        tmp = root.with_name("base.partial")
        shutil.rmtree(tmp, ignore_errors=True)
        log(f"debootstrap {DEBIAN_SUITE} from {DEBIAN_MIRROR} into {tmp} (about a minute)")
        cmd = [hosttools.tool("debootstrap"), "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}", DEBIAN_SUITE,
               str(tmp), DEBIAN_MIRROR]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SandboxError(f"debootstrap failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}",
                               where="tmax images bootstrap",
                               fix=f"check that {DEBIAN_MIRROR} is reachable (TMAX_DEBIAN_MIRROR picks another)")
        _configure_rootfs(tmp, host_ca)
        (tmp / _STAMP).write_text(wanted)
        shutil.rmtree(root, ignore_errors=True)
        tmp.rename(root)
    if shutil.which(engine) and (force or not image_exists(BASE_IMAGE, engine)):
        log(f"importing {root} as {BASE_IMAGE}")
        changes = ["ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                   "ENV LANG=C.UTF-8", "ENV DEBIAN_FRONTEND=noninteractive",
                   f"ENV PIP_CERT={HOST_CA_BUNDLE}", f"ENV SSL_CERT_FILE={HOST_CA_BUNDLE}",
                   f"ENV REQUESTS_CA_BUNDLE={HOST_CA_BUNDLE}", "WORKDIR /", 'CMD ["bash"]']
        tar = subprocess.Popen(["tar", "-C", str(root), "--exclude=./.tmax-used", "-c", "."], stdout=subprocess.PIPE)
        args = [*engine_argv(engine), "import"] + [a for c in changes for a in ("--change", c)] + ["-", BASE_IMAGE]
        proc = subprocess.run(args, stdin=tar.stdout, capture_output=True, text=True)
        tar.wait()
        if proc.returncode != 0:
            raise SandboxError(f"{engine} import failed: {proc.stderr.strip()}", where="tmax images bootstrap",
                               fix=f"check `{engine} info` works on this machine")
        mark_imported(root, image_field(BASE_IMAGE, "{{.Id}}", engine))  # task rootfs dirs may start from root
    global BASE_GENERATION
    BASE_GENERATION += 1  # environments prepared earlier in this process were built on the old base
    return BASE_IMAGE


# -- Dockerfiles -------------------------------------------------------------------------------
_FROM = re.compile(r"^(\s*FROM\s+)((?:--\S+\s+)*)(\S+)(.*)$", re.IGNORECASE)


def resolve_image(image: str, engine: str = "podman", present=image_exists) -> str | None:
    """The local image to use for ``image`` when it is absent, or None to keep it."""
    if "$" in image or present(image, engine):
        return None
    for pattern, target in ALIASES.items():
        if fnmatch.fnmatch(image, pattern):
            return target
    return None


def rewrite_from_lines(dockerfile: str, engine: str = "podman", present=image_exists) -> tuple[str, list[dict]]:
    """Point absent base images at local ones; returns the new text and the substitutions."""
    stages: set[str] = set()
    out, subs = [], []
    for line in dockerfile.splitlines():
        match = _FROM.match(line)
        if match:
            head, flags, image, rest = match.groups()
            alias = re.search(r"\bAS\s+(\S+)", rest, re.IGNORECASE)
            if image.lower() not in stages:
                target = resolve_image(image, engine, present)
                if target:
                    subs.append({"from": image, "to": target})
                    line = f"{head}{flags}{target}{rest}"
            if alias:
                stages.add(alias.group(1).lower())
        out.append(line)
    return "\n".join(out) + "\n", subs


@dataclass
class BuiltImage:
    tag: str
    substitutions: list[dict] = field(default_factory=list)
    cached: bool = False
    log: str = ""


def _context_digest(context: Path, dockerfile_text: str, base_id: str) -> str:
    digest = hashlib.sha256(dockerfile_text.encode() + base_id.encode())
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(context)).encode())
        digest.update(oct(path.stat().st_mode & 0o7777).encode())  # COPY keeps modes: a script's x bit is content
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9_.-]+", "-", name.lower()).strip("-.") or "task"


def build_image(name: str, dockerfile: Path, context: Path, *, engine: str = "podman",
                timeout: float = 600.0, log_path: Path | None = None) -> BuiltImage:
    """Build ``dockerfile`` (FROM lines resolved to local bases) once per content hash.

    The image is tagged ``localhost/tmax/<name>:<content hash>``. When another task already
    built the same content (same Dockerfile, context and base: generated tasks often share an
    environment), that image is used as it is: no second build under this task's name."""
    if not shutil.which(engine):
        raise BuildError(f"{engine} is not installed", where=str(dockerfile),
                         fix=f"apt-get install -y {engine} (or pick another sandbox backend)")
    text, subs = rewrite_from_lines(dockerfile.read_text(), engine)
    base_id = image_field(BASE_IMAGE, "{{.Id}}", engine)
    digest = _context_digest(context, text, base_id)
    tag = f"localhost/tmax/{_slug(name)}:{digest}"
    found = _built_from(digest, tag, engine)
    if found:
        return BuiltImage(found, subs, cached=True)
    with file_lock(cache_dir() / "locks" / f"build-{digest}.lock"):  # one build per content at a time
        found = _built_from(digest, tag, engine)
        if found:
            return BuiltImage(found, subs, cached=True)
        return _build(text, tag, subs, dockerfile, context, engine, timeout, log_path)


def _built_from(digest: str, tag: str, engine: str) -> str | None:
    """An image already built from the content ``digest``: ``tag`` itself, else the first one
    under another task's name (tags ``localhost/tmax/*:<digest>``); None when there is none."""
    if image_exists(tag, engine):
        return tag
    proc = subprocess.run([*engine_argv(engine), "images", "--filter", f"reference=localhost/tmax/*:{digest}",
                           "--format", "{{.Repository}}:{{.Tag}}"], capture_output=True, text=True)
    if proc.returncode != 0:
        return None
    names = sorted(n for n in map(str.strip, proc.stdout.splitlines())  # checked again: a filter an engine ignores
                   if n.startswith("localhost/tmax/") and n.endswith(f":{digest}"))
    return names[0] if names else None


def _build(text: str, tag: str, subs: list[dict], dockerfile: Path, context: Path, engine: str,
           timeout: float, log_path: Path | None) -> BuiltImage:
    with tempfile.NamedTemporaryFile("w", suffix=".Dockerfile", delete=False) as fh:
        fh.write(text)
    cmd = [*engine_argv(engine), "build", "-t", tag, "-f", fh.name]
    if engine == "podman":
        cmd += ["--isolation", "chroot", "--layers"]
    try:
        proc = subprocess.run([*cmd, str(context)], capture_output=True, text=True, timeout=timeout)
        log = proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        log = f"{exc.stdout or ''}{exc.stderr or ''}\n[build timed out after {timeout:.0f}s]"
        proc = None
    finally:
        os.unlink(fh.name)
    if log_path:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text(log if isinstance(log, str) else log.decode(errors="replace"))
    if proc is None or proc.returncode != 0:
        hint = ("no registry is reachable: run `tmax images bootstrap`, or add the image to "
                "tmax.sandbox.images.ALIASES" if "pull" in str(log).lower() or "resolv" in str(log).lower()
                else "read the build log; fix the Dockerfile")
        tail = str(log)[-1500:]
        raise BuildError(f"image build failed:\n{tail}", where=str(dockerfile), fix=hint)
    return BuiltImage(tag, subs, cached=False, log=log)


def export_rootfs(image: str, engine: str = "podman") -> Path:
    """Unpack ``image``'s filesystem into the cache (for the bwrap backend); cached per image id."""
    image_id = image_field(image, "{{.Id}}", engine)
    if not image_id:
        raise SandboxError(f"image {image} not found", where="export_rootfs", fix="build the task image first")
    dest = cache_dir() / "rootfs" / image_id[:16]
    if (dest / ".tmax-complete").exists():
        return dest
    # One exporter per image: concurrent trials of a task (and other tmax processes) wait for
    # it instead of unpacking into the same .partial dir at once.
    with file_lock(dest.with_name(dest.name + ".lock")):
        if not (dest / ".tmax-complete").exists():
            _export(image, engine, dest)
    return dest


def _export(image: str, engine: str, dest: Path) -> None:
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    base_id = image_field(BASE_IMAGE, "{{.Id}}", engine)
    if not rootfs_from_base(image, BASE_IMAGE, base_id, base_rootfs(), tmp, engine):  # the base + the image's diff
        export_whole(image, engine, tmp)
    (tmp / ".tmax-complete").touch()
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)


def export_whole(image: str, engine: str, dest: Path) -> None:
    """``image``'s whole filesystem unpacked into the new dir ``dest`` (``podman export``), its
    files equal to the base rootfs's hard-linked to them."""
    dest.mkdir(parents=True)
    cid = subprocess.run([*engine_argv(engine), "create", image, "true"], capture_output=True, text=True,
                         check=True).stdout.strip()
    try:
        exp = subprocess.Popen([*engine_argv(engine), "export", cid], stdout=subprocess.PIPE)
        subprocess.run(["tar", "-C", str(dest), "-x"], stdin=exp.stdout, check=True)
        exp.wait()
    finally:
        subprocess.run([*engine_argv(engine), "rm", "-f", cid], capture_output=True)
    base = base_rootfs()
    if base.is_dir() and base.stat().st_dev == dest.stat().st_dev:  # files the base has: hard links to it
        from tmax.sandbox.cache import dedupe_against

        dedupe_against(dest, base)
    (dest / ".tmax-used").unlink(missing_ok=True)  # a base imported with its last-use marker: not ours
