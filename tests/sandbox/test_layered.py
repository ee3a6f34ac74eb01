"""A task image's rootfs made from the base rootfs plus the image's changes equals the one
``podman export`` gives, and making it never touches the base rootfs."""

from __future__ import annotations

import filecmp
import hashlib
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tmax.sandbox import images, layered
from tmax.sandbox.container_cli import engine_argv

# tmax's own markers, and the empty /etc/hosts that `podman create` adds to a container (not
# part of the image, so not of the rootfs made from it)
MARKERS = {".tmax-used", ".tmax-complete", "etc/hosts"}


def _tree(root: Path) -> dict[str, tuple]:
    """path -> (type and mode, owner, size, mtime or link target) of everything under root."""
    out = {}
    for here, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(here, name)
            rel = os.path.relpath(path, root)
            if rel in MARKERS:
                continue
            st = os.lstat(path)
            extra = os.readlink(path) if stat.S_ISLNK(st.st_mode) else (
                None if stat.S_ISDIR(st.st_mode) else st.st_mtime_ns // 10**9)
            out[rel] = (st.st_mode, st.st_uid, st.st_gid, 0 if stat.S_ISDIR(st.st_mode) else st.st_size, extra)
    return out


def _base_id() -> str:
    return images.image_field(images.BASE_IMAGE, "{{.Id}}")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_base_plus_changes_equals_the_full_export_and_leaves_the_base_alone(podman_image, tmp_path):
    base = images.base_rootfs()
    if not layered._marker(base).is_file():
        pytest.skip("the base rootfs has no import marker (made by `tmax images bootstrap` since it imports)")
    (tmp_path / "ctx" / "app").mkdir(parents=True)
    (tmp_path / "ctx" / "app" / "data.txt").write_text("fixture\n")
    (tmp_path / "ctx" / "Dockerfile").write_text(
        f"FROM {podman_image}\nCOPY app/ /app/\n"
        "RUN echo changed >> /etc/issue && chmod 600 /etc/issue.net && rm /etc/motd && "
        "mkdir -p /opt/new/deep && echo x > /opt/new/deep/f && ln -s /etc/hostname /app/link && "
        "rm -rf /usr/share/doc/bash && chmod 4755 /app/data.txt\n")
    watched = {p: (_digest(base / p), os.lstat(base / p).st_mode) for p in ("etc/issue", "etc/issue.net", "etc/motd")}
    built = images.build_image("layered-test", tmp_path / "ctx" / "Dockerfile", tmp_path / "ctx")
    fast, full = tmp_path / "cache" / "fast", tmp_path / "cache" / "full"
    try:
        assert layered.rootfs_from_base(built.tag, images.BASE_IMAGE, _base_id(), base, fast)
        images.export_whole(built.tag, "podman", full)
        a, b = _tree(fast), _tree(full)
        only_one = sorted(a.keys() ^ b.keys())  # the same key sets; a short list renders in ms, not a
        assert only_one == [], only_one[:10]     # difflib of two whole trees (600 s timeout in CI)
        assert {k for k in a if a[k] != b[k]} == set()
        for rel, (mode, *_) in a.items():
            if stat.S_ISREG(mode):
                assert filecmp.cmp(fast / rel, full / rel, shallow=False), rel
        assert (fast / "etc/issue").read_text().endswith("changed\n") and not (fast / "etc/motd").exists()
        assert os.lstat(fast / "usr/bin/bash").st_ino == os.lstat(base / "usr/bin/bash").st_ino  # shared, not copied
        after = {p: (_digest(base / p), os.lstat(base / p).st_mode) for p in watched}
        assert after == watched
    finally:
        subprocess.run([*engine_argv("podman"), "rmi", "-f", built.tag], capture_output=True)
        shutil.rmtree(fast, ignore_errors=True)


def test_an_image_not_imported_from_this_base_is_exported_whole(tmp_path, podman_image):
    """No marker beside the tree (or another image id in it): False, and nothing left behind."""
    fake_base = tmp_path / "base"
    fake_base.mkdir()
    assert not layered.rootfs_from_base(podman_image, images.BASE_IMAGE, _base_id(), fake_base, tmp_path / "out")
    layered.mark_imported(fake_base, "not-the-id")
    assert not layered.rootfs_from_base(podman_image, images.BASE_IMAGE, _base_id(), fake_base, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_without_the_fast_path_the_whole_export_still_shares_the_base_files(podman_image, tmp_path, monkeypatch):
    """The fallback (`podman export`, then links back to the base) for images the fast path
    declines: same files, the base's shared."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "data.txt").write_text("fixture\n")
    (tmp_path / "Dockerfile").write_text(f"FROM {podman_image}\nCOPY app/ /app/\n")
    built = images.build_image("layered-fallback", tmp_path / "Dockerfile", tmp_path)
    monkeypatch.setattr(images, "rootfs_from_base", lambda *a, **k: False)  # as images sees it
    dest = images.base_rootfs().parent / f"fallback-test-{os.getpid()}"
    try:
        images._export(built.tag, "podman", dest)
        assert (dest / "app" / "data.txt").read_text() == "fixture\n" and (dest / ".tmax-complete").exists()
        assert not (dest / ".tmax-used").exists()
        assert os.lstat(dest / "usr/bin/bash").st_ino == os.lstat(images.base_rootfs() / "usr/bin/bash").st_ino
    finally:
        subprocess.run([*engine_argv("podman"), "rmi", "-f", built.tag], capture_output=True)
        shutil.rmtree(dest, ignore_errors=True)


def test_a_path_under_an_absolute_link_in_the_tree_is_refused_not_written_on_the_host(tmp_path):
    host, tree = tmp_path / "host", tmp_path / "tree"
    host.mkdir()
    (tree / "etc").mkdir(parents=True)
    (tree / "etc" / "alt").symlink_to(host)  # absolute: from the host it leads out of the tree
    (host / "keep").write_text("host file\n")
    src = tmp_path / "src.txt"
    src.write_text("from the image\n")
    assert not layered._copy_in(src, tree / "etc" / "alt" / "new", tree)
    assert not layered._inside(tree / "etc" / "alt" / "keep", tree)
    assert sorted(p.name for p in host.iterdir()) == ["keep"]
    assert layered._copy_in(src, tree / "etc" / "new", tree) and (tree / "etc" / "new").read_text() == "from the image\n"
