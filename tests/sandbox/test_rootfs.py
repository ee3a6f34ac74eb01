"""Host-side file copies of rootfs sandboxes: a link that appears between the path check and
the copy (the race an agent process can win) is never written through."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tmax.errors import SandboxError
from tmax.sandbox.rootfs import RootfsFiles


class LinkAfterCheck(RootfsFiles):
    """Plants a link at ``victim`` right after each path check: the race, won every time."""

    def __init__(self, *args, victim: Path, target: Path):
        super().__init__(*args)
        self.victim, self.target = victim, target

    def resolve(self, path: str) -> str:
        real = super().resolve(path)
        if self.victim.is_dir() and not self.victim.is_symlink():
            os.rmdir(self.victim)
        if not os.path.lexists(self.victim):
            self.victim.symlink_to(self.target)
        return real


@pytest.fixture
def layout(tmp_path):
    root, rw, host = tmp_path / "root", tmp_path / "rw" / "tests", tmp_path / "host"
    for d in (root, rw, host):
        d.mkdir(parents=True)
    return root, rw, host


def test_a_file_swapped_for_a_link_after_the_check_is_not_written_through(layout, tmp_path):
    root, rw, host = layout
    files = LinkAfterCheck(root, {"/tests": rw}, (), tmp_path / "void", victim=rw / "x.sh", target=host / "owned")
    src = tmp_path / "x.sh"
    src.write_text("payload\n")
    files.put(src, "/tests/x.sh")  # the planted link is replaced, never followed
    assert not (host / "owned").exists()
    assert (rw / "x.sh").read_text() == "payload\n" and not (rw / "x.sh").is_symlink()


def test_a_dir_swapped_for_a_link_after_the_check_is_refused(layout, tmp_path):
    root, rw, host = layout
    (rw / "sub").mkdir()
    files = LinkAfterCheck(root, {"/tests": rw}, (), tmp_path / "void", victim=rw / "sub", target=host)
    src = tmp_path / "y.sh"
    src.write_text("payload\n")
    with pytest.raises(SandboxError, match="without following links"):
        files.put(src, "/tests/sub/y.sh")
    assert list(host.iterdir()) == []


def test_reads_never_follow_a_link_to_a_host_file(layout, tmp_path):
    root, rw, host = layout
    (host / "secret").write_text("host secret\n")
    files = LinkAfterCheck(root, {"/tests": rw}, (), tmp_path / "void", victim=rw / "r.txt",
                           target=host / "secret")
    assert files.open_file("/tests/r.txt") is None
