"""Copies through a tar stream run inside a sandbox, for paths the host cannot see (apptainer's
overlay): ``push`` packs host files into ``tar -x`` running in the sandbox, ``pull`` unpacks
what ``tar -c`` in the sandbox sends. Members come in as root; on the way out only regular
files, dirs and links that stay inside the destination are unpacked."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from tmax.errors import SandboxError
from tmax.sandbox.rootfs import copy_tree

# Run inside the sandbox with the path as $1.
TAR_OUT = ('p=$(readlink -f -- "$1") && [ -e "$p" ] && [ "$p" != / ] && cd -- "${p%/*}/" && '
           'exec tar -c -f - -- "${p##*/}"')
TAR_IN = 'mkdir -p -- "$1" && cd -- "$1" && exec tar -x -f -'


def _as_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def _safe_member(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
    """Regular files, dirs and links that stay inside ``dest``; everything else is skipped."""
    try:
        return tarfile.data_filter(member, dest)
    except tarfile.FilterError:
        return None


def push(command: Callable[[str, str], list[str]], src: Path, dest: str, log: Path, **popen) -> str | None:
    """Copy ``src`` (a directory's contents, or one file to path ``dest``) into the sandbox;
    ``command(script, path)`` is the argv running ``bash -c script`` inside with ``$1 = path``.
    Returns None, or what the sandbox's tar said when it failed."""
    target = dest if src.is_dir() else os.path.dirname(dest)
    with open(log, "wb") as out:
        proc = subprocess.Popen(command(TAR_IN, target), stdin=subprocess.PIPE, stdout=out,
                                stderr=subprocess.STDOUT, **popen)
        try:
            with tarfile.open(fileobj=proc.stdin, mode="w|") as tar:
                if src.is_dir():
                    for child in sorted(src.iterdir()):
                        tar.add(child, arcname=child.name, filter=_as_root)
                else:
                    tar.add(src, arcname=os.path.basename(dest), filter=_as_root)
        except BrokenPipeError:
            pass
        finally:
            try:
                proc.stdin.close()
            except BrokenPipeError:
                pass
        try:
            code = proc.wait(timeout=600)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
    return None if code == 0 else log.read_text(errors="replace").strip()[-1500:]


def pull(command: Callable[[str, str], list[str]], src: str, dest: Path, log: Path, **popen) -> None:
    """Copy sandbox path ``src`` out to host path ``dest`` (links leaving it are skipped)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    unpack = Path(tempfile.mkdtemp(prefix=".tmax-download-", dir=dest.parent))
    try:
        with open(log, "wb") as err:
            proc = subprocess.Popen(command(TAR_OUT, src), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=err, **popen)
            try:
                with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
                    tar.extractall(unpack, filter=_safe_member)
            except tarfile.ReadError:
                pass  # nothing came: the path is absent (the exit status says so)
            finally:
                proc.stdout.close()
                code = proc.wait(timeout=600)
        got = list(unpack.iterdir())
        if code != 0 or len(got) != 1 or not (got[0].is_file() or got[0].is_dir()) or got[0].is_symlink():
            raise SandboxError(f"{src} does not exist in the sandbox (or is not a file)", where="download")
        if got[0].is_dir():
            copy_tree(got[0], dest)
        else:
            shutil.copy2(got[0], dest)
    finally:
        shutil.rmtree(unpack, ignore_errors=True)
