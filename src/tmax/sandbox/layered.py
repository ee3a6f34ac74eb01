"""A task image's rootfs for bwrap, made from the base rootfs plus what the image changed.

``podman export`` writes the whole filesystem of an image (~650 MB for the base) and the cache
then links the files it has in common with the base rootfs back to it. For an image built on
the base, most of that is wasted: a starter task adds a few files. Here the rootfs is made
from the base rootfs as hard links (``cp -al``, no data copied) and then only the paths the
image changed relative to ``BASE_IMAGE`` (``podman image diff``) are taken from the image's
own mounted filesystem. Same result, a second instead of ten per image.

It is used only when the base rootfs is the tree ``BASE_IMAGE`` was imported from (the image
id written next to it at import, ``rootfs/base.image-id``, matches), and only for images whose changes are plain files, links
and directories; anything else (a device node, a large diff, a podman without ``image
mount``) returns False and the caller exports the whole image as before.

Every file of the new tree starts as a hard link to the base's: nothing here writes into an
existing file. A changed path is first removed from the tree, then copied in; directories are
the tree's own (``cp -al`` makes new ones), so their metadata is set in place.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

from tmax.sandbox.container_cli import engine_argv

MAX_CHANGES = 20000  # beyond this the image is not "the base plus a little": export it whole


def _marker(root: Path) -> Path:
    return root.with_name(root.name + ".image-id")  # beside the tree: sandboxes never see it


def mark_imported(root: Path, image_id: str) -> None:
    """Record that the image ``image_id`` was imported from the rootfs ``root``."""
    _marker(root).write_text(image_id + "\n")


def _changes(image: str, base_image: str, engine: str) -> list[tuple[str, str]] | None:
    proc = subprocess.run([*engine_argv(engine), "image", "diff", image, base_image],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return None
    changes = []
    for line in proc.stdout.splitlines():
        kind, _, path = line.partition(" ")
        if kind not in ("A", "C", "D") or not path.startswith("/") or "/../" in path + "/":
            return None
        changes.append((kind, path))
    return changes if len(changes) <= MAX_CHANGES else None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()


def _inside(path: Path, tree: Path) -> bool:
    """Whether ``path``'s parent, its links followed, is still in ``tree`` (an absolute link in
    the tree points at the host's file, not the tree's)."""
    return path.parent == tree or os.path.realpath(path.parent).startswith(os.path.realpath(tree) + os.sep)


def _copy_in(src: Path, dst: Path, tree: Path) -> bool:
    """Put ``src`` (in the image's mount) at ``dst`` (in the new ``tree``); False for a kind of
    file this does not copy, or a parent that leads out of the tree."""
    if not _inside(dst, tree):
        return False
    st = os.lstat(src)
    if stat.S_ISDIR(st.st_mode):
        if os.path.lexists(dst) and not (dst.is_dir() and not dst.is_symlink()):
            _remove(dst)
        dst.mkdir(exist_ok=True)
    else:
        _remove(dst)  # never write into a file that may be a hard link to the base's
        if stat.S_ISLNK(st.st_mode):
            os.symlink(os.readlink(src), dst)
        elif stat.S_ISREG(st.st_mode):
            shutil.copyfile(src, dst, follow_symlinks=False)
        else:
            return False
    os.chown(dst, st.st_uid, st.st_gid, follow_symlinks=False)
    if not stat.S_ISLNK(st.st_mode):
        os.chmod(dst, stat.S_IMODE(st.st_mode))
    os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)
    return True


def rootfs_from_base(image: str, base_image: str, base_id: str, base: Path, dest: Path,
                     engine: str = "podman") -> bool:
    """Fill the empty or absent dir ``dest`` with ``image``'s filesystem, made from ``base``
    (the rootfs ``base_image``, whose image id is ``base_id``, was imported from); False, with
    ``dest`` removed, when this image cannot be made that way."""
    marker = _marker(base)
    if engine != "podman" or not base_id or not marker.is_file() or marker.read_text().strip() != base_id:
        return False
    changes = _changes(image, base_image, engine)
    if changes is None:
        return False
    mount = subprocess.run([*engine_argv(engine), "image", "mount", image], capture_output=True, text=True)
    if mount.returncode != 0 or not mount.stdout.strip():
        return False
    merged = Path(mount.stdout.strip())
    try:
        shutil.rmtree(dest, ignore_errors=True)
        dest.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cp", "-al", "--", str(base), str(dest)], check=True, capture_output=True)
        (dest / ".tmax-used").unlink(missing_ok=True)  # the base's last-use marker, not this tree's
        # parents before children (the diff lists them so; sorting makes sure), deletions first
        for kind, path in sorted(changes, key=lambda c: (c[0] != "D", c[1].count("/"), c[1])):
            rel = path.lstrip("/")
            done = _inside(dest / rel, dest) if kind == "D" else _copy_in(merged / rel, dest / rel, dest)
            if not done:  # a path this does not handle: the caller exports the whole image
                shutil.rmtree(dest, ignore_errors=True)
                return False
            if kind == "D":
                _remove(dest / rel)
        return True
    except (OSError, subprocess.CalledProcessError):
        shutil.rmtree(dest, ignore_errors=True)
        return False
    finally:
        subprocess.run([*engine_argv(engine), "image", "unmount", image], capture_output=True)
