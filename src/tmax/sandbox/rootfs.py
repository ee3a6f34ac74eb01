"""The host's view of a rootfs sandbox's files (bwrap, apptainer): a read-only root directory
plus per-sandbox writable host directories bound over some of its paths.

Everything here runs on the host, often as root, over directories the agent writes to. So a
path is first resolved the way the sandbox sees it (its symlinks followed inside the sandbox's
tree, never into the host's), and then every file is opened component by component through
directory handles with ``O_NOFOLLOW``: a symlink swapped in after the check (an agent process
racing an upload) makes the copy fail instead of writing through it onto the host.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import subprocess
from pathlib import Path

from tmax.errors import SandboxError

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# /opt/tmax-verifier receives the offline verifier layer (tmax.trial.layer).
WRITABLE = ("/tmp", "/var/tmp", "/root", "/logs", "/tests", "/solution", "/opt/tmax-verifier")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def norm(path: str) -> str:
    return os.path.normpath("/" + path.lstrip("/"))  # normpath keeps a leading "//"


def under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


def seed_writable_dirs(root: Path, workdir: str, rw: Path, *, copy=lambda path: True,
                       extra: tuple[str, ...] | list[str] = ()) -> dict[str, Path]:
    """Per-sandbox host dirs under ``rw`` for ``WRITABLE``, the workdir and ``extra`` (each
    unless inside one of the others), seeded with a copy of the rootfs's content where
    ``copy(path)``. Returns ``{path: host dir}``. Nothing is written to the rootfs, which every
    sandbox of its image shares: the backend makes the mount points it lacks in the sandbox."""
    paths = [*WRITABLE]
    for path in [workdir, *(norm(p) for p in extra)]:
        if path != "/" and not any(under(path, p) for p in paths):
            paths.append(path)
    mounts: dict[str, Path] = {}
    for path in sorted(paths, key=lambda p: p.count("/")):
        host = rw / path.strip("/").replace("/", "%")
        seed = root / path[1:]
        plain = os.path.realpath(seed) == str(seed)  # never follow a rootfs symlink out to the host's files
        host.mkdir(parents=True)
        if plain and copy(path) and seed.is_dir() and next(os.scandir(seed), None) is not None:
            subprocess.run(["cp", "-a", f"{seed}/.", f"{host}/"], check=True, capture_output=True)
        if path in ("/tmp", "/var/tmp"):
            host.chmod(0o1777)
        mounts[path] = host
    return mounts


def copy_tree(src: Path, dest: Path) -> None:
    """Copy a host tree: links stay links, files hard-linked to each other stay so, anything but
    regular files, dirs and links is left out."""
    seen: dict[tuple[int, int], str] = {}

    def regular(s: str, d: str) -> None:
        info = os.lstat(s)
        if not stat.S_ISREG(info.st_mode):
            return
        key = (info.st_dev, info.st_ino)
        if info.st_nlink > 1 and key in seen:
            os.link(seen[key], d)
            return
        shutil.copy2(s, d)
        seen[key] = d

    shutil.copytree(src, dest, symlinks=True, copy_function=regular, dirs_exist_ok=True)


class RootfsFiles:
    """Path resolution and file copies between the host and one rootfs sandbox.

    ``mounts`` maps sandbox paths to the writable host dirs bound there; ``void`` lists sandbox
    paths that never come from the host (``/proc``, ``/dev``, masks), read as ``void_dir``."""

    def __init__(self, root: Path, mounts: dict[str, Path], void: tuple[str, ...], void_dir: Path):
        self.root, self.mounts, self.void, self.void_dir = root, mounts, void, void_dir

    def host(self, path: str) -> Path:
        """Host path behind sandbox ``path`` (no symlinks followed): longest writable mount, or the root."""
        mounts = [m for m in self.mounts if under(path, m)]
        if mounts:
            mount = max(mounts, key=len)
            return self.mounts[mount] / os.path.relpath(path, mount)
        if any(under(path, v) for v in self.void):
            return self.void_dir / path[1:]
        return self.root / path[1:]

    def resolve(self, path: str) -> str:
        """``path`` with symlinks resolved as the sandbox sees them, so none can point at host files."""
        todo, done, hops = [p for p in path.split("/") if p], "/", 0
        while todo:
            name = todo.pop(0)
            if name in (".", ".."):
                done = os.path.dirname(done) if name == ".." else done
                continue
            step = os.path.join(done, name)
            host = self.host(step)
            if host.is_symlink():
                hops += 1
                if hops > 40:
                    raise SandboxError(f"too many levels of symlinks in {path}", where="sandbox files")
                target = os.readlink(host)
                todo = [p for p in target.split("/") if p] + todo
                done = "/" if target.startswith("/") else done
                continue
            done = step
        return done

    def bound(self, path: str) -> bool:
        return any(under(path, m) for m in self.mounts)

    def _mount_of(self, real: str) -> tuple[Path, list[str]]:
        """The writable host dir holding sandbox path ``real`` and the components below it."""
        mounts = [m for m in self.mounts if under(real, m)]
        if not mounts:
            raise SandboxError(f"{real} is read-only in the sandbox", where="upload",
                               fix=f"write under one of: {', '.join(sorted(self.mounts))}")
        mount = max(mounts, key=len)
        rel = os.path.relpath(real, mount)
        return self.mounts[mount], [] if rel == "." else rel.split("/")

    def _open_dir(self, real: str, create: bool) -> int:
        """A directory fd for sandbox dir ``real``, walked from its mount with O_NOFOLLOW."""
        base, parts = self._mount_of(real)
        fd = os.open(base, _DIR_FLAGS)
        try:
            for part in parts:
                if create:
                    try:
                        os.mkdir(part, 0o755, dir_fd=fd)
                    except FileExistsError:
                        pass
                nxt = os.open(part, _DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = nxt
        except OSError as exc:
            os.close(fd)
            raise SandboxError(f"cannot open {real} without following links: {exc.strerror}",
                               where="sandbox files", fix="the sandbox changed the path while it was copied") from exc
        return fd

    def mkdir(self, dest: str) -> None:
        os.close(self._open_dir(self.resolve(norm(dest)), create=True))

    def put(self, src: Path, dest: str) -> None:
        """Copy host file (or symlink) ``src`` to sandbox path ``dest``, writing through no link."""
        real = self.resolve(norm(dest))
        parent, name = os.path.split(real)
        fd = self._open_dir(parent, create=True)
        try:
            try:
                if not stat.S_ISDIR(os.lstat(name, dir_fd=fd).st_mode):
                    os.unlink(name, dir_fd=fd)
            except FileNotFoundError:
                pass
            if src.is_symlink():
                os.symlink(os.readlink(src), name, dir_fd=fd)
                return
            info = src.stat()
            out = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                          stat.S_IMODE(info.st_mode), dir_fd=fd)
            with open(src, "rb") as fin, os.fdopen(out, "wb") as fout:
                shutil.copyfileobj(fin, fout, 1 << 20)
                os.fchmod(fout.fileno(), stat.S_IMODE(info.st_mode))
                os.utime(fout.fileno(), ns=(info.st_atime_ns, info.st_mtime_ns))
        except OSError as exc:
            link = exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EEXIST)
            raise SandboxError(f"upload to {dest} failed: {exc.strerror or exc}", where="sandbox files",
                               fix="the sandbox changed the path while it was copied" if link else None) from exc
        finally:
            os.close(fd)

    def upload(self, src: Path, dest: str) -> None:
        src = Path(src)
        if not src.exists() and not src.is_symlink():
            raise SandboxError(f"nothing to upload at {src}", where="upload", fix="check the path")
        if not src.is_dir() or src.is_symlink():
            return self.put(src, dest)
        seen: dict[tuple[int, int], str] = {}  # files hard-linked to each other stay so
        for here, dirs, files in os.walk(src):
            target = os.path.normpath(os.path.join(dest, os.path.relpath(here, src)))
            self.mkdir(target)
            for name in files + [d for d in dirs if os.path.islink(os.path.join(here, d))]:
                info = os.lstat(os.path.join(here, name))
                key = (info.st_dev, info.st_ino)
                if stat.S_ISREG(info.st_mode) and info.st_nlink > 1 and key in seen \
                        and self.link(seen[key], os.path.join(target, name)):
                    continue
                self.put(Path(here, name), os.path.join(target, name))
                seen.setdefault(key, os.path.join(target, name))

    def link(self, existing: str, dest: str) -> bool:
        """Hard-link sandbox file ``existing`` as ``dest`` (no link followed); False when the two
        are on different mounts (the caller copies instead)."""
        (a_dir, a_name), (b_dir, b_name) = (os.path.split(self.resolve(norm(p))) for p in (existing, dest))
        fa, fb = self._open_dir(a_dir, create=False), self._open_dir(b_dir, create=True)
        try:
            try:
                if not stat.S_ISDIR(os.lstat(b_name, dir_fd=fb).st_mode):
                    os.unlink(b_name, dir_fd=fb)
            except FileNotFoundError:
                pass
            os.link(a_name, b_name, src_dir_fd=fa, dst_dir_fd=fb, follow_symlinks=False)
            return True
        except OSError as exc:
            if exc.errno == errno.EXDEV:
                return False
            raise SandboxError(f"link {existing} -> {dest} failed: {exc.strerror or exc}", where="sandbox files",
                               fix="the sandbox changed the path while it was copied") from exc
        finally:
            os.close(fa)
            os.close(fb)

    def open_file(self, src: str):
        """Regular file ``src`` opened for reading (binary), or None if absent or not a regular
        file; opened through directory handles with O_NOFOLLOW, so no host link is followed."""
        real = self.resolve(norm(src))
        parent, name = os.path.split(real)
        try:
            fd = self._open_dir(parent, create=False) if self.bound(parent) else \
                os.open(self.host(parent), _DIR_FLAGS)  # the read-only root: tmax's own cache
        except (SandboxError, OSError):
            return None
        try:
            f = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=fd)
        except OSError:
            return None
        finally:
            os.close(fd)
        fh = os.fdopen(f, "rb")
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            fh.close()
            return None
        return fh

    def download(self, src: str, dest: Path) -> None:
        host, dest = self.host(self.resolve(norm(src))), Path(dest)
        fh = None if host.is_dir() else self.open_file(src)
        if fh is None and not host.is_dir():  # absent, or a fifo/device that would block
            raise SandboxError(f"{src} does not exist in the sandbox (or is not a file)", where="download")
        dest.parent.mkdir(parents=True, exist_ok=True)
        if fh is not None:
            with fh, open(dest, "wb") as out:
                shutil.copyfileobj(fh, out, 1 << 20)
            return
        copy_tree(host, dest)
