"""What the agent changed that the verifier would run as its own.

The verifier runs in the agent's sandbox (Harbor's and Terminal-Bench's semantics). Where the
image's root is writable (podman, docker), an agent can replace the programs the tests run --
``bash``, ``python3``, the dynamic loader -- or add files that every Python, every pytest or
every program loads at start. Any of these lets the agent write its own reward. bwrap's root is
read-only and the verifier's own dirs are emptied before verifying (``tmax.trial.verifier``),
so this check is for writable roots.

``tampering(changes)`` takes a sandbox's changes against its image (``{"changed", "added",
"deleted"}`` path lists, as ``podman diff`` reports them) and returns two sorted lists:

- ``replaced``: what no task needs to change and what puts the agent's code in the verifier's
  place -- a program of the image's in ``/usr/bin``, ``/usr/sbin``, ``/bin``, ``/sbin`` changed
  or deleted, the loader or libc, ``/etc/ld.so.preload``, ``sitecustomize.py`` /
  ``usercustomize.py``, a ``pytest.ini`` or ``conftest.py`` (or another pytest config file) at
  ``/``, the ancestor of ``/tests``. The trial scores 0 (``on_tampering="zero"``).
- ``suspect``: start-up hooks that installs also write (``.pth`` files, a package's
  ``entry_points.txt``, ``/etc/ld.so.conf.d``): a warning in result.json, since ``pip install -e``
  writes a ``.pth`` and a package with console scripts an ``entry_points.txt``.

Library code changed in place (a patched ``site-packages`` module) and ``/usr/local`` (where
tasks put their own tools, and agents fix them) count as neither.
"""

from __future__ import annotations

import re

PROGRAM_DIRS = ("/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/")
LOADER = re.compile(r"^/(usr/)?lib(32|64|x32)?/([^/]+/)?(ld-linux[^/]*|ld64[^/]*|libc\.so[^/]*)$")
HOOKS = re.compile(r"(/sitecustomize\.py$|/usercustomize\.py$|^/etc/ld\.so\.preload$"
                   r"|^/(pytest\.ini|conftest\.py|tox\.ini|setup\.cfg|pyproject\.toml)$)")
SUSPECT = re.compile(r"(\.pth$|\.dist-info/entry_points\.txt$|^/etc/ld\.so\.conf(\.d/.*)?$)")


def tampering(changes: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    """``(replaced, suspect)`` paths among ``changes`` (see the module docstring)."""
    replaced, suspect = set(), set()
    for kind in ("changed", "deleted"):
        for path in changes.get(kind) or []:
            if path.startswith(PROGRAM_DIRS) or LOADER.match(path):
                replaced.add(path)
    for kind in ("changed", "added", "deleted"):
        for path in changes.get(kind) or []:
            if HOOKS.search(path):
                replaced.add(path)
            elif SUSPECT.search(path):
                suspect.add(path)
    return sorted(replaced), sorted(suspect - replaced)
