"""tmax finds the root-only host programs it runs (mkfs.*, losetup, runc, chroot) in the system
dirs when PATH lacks them: a tmax started from cron or `env -i PATH=/usr/bin:/bin` must build
the same sandboxes, not silently fall back to another podman store or no disk quota."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tmax.sandbox import hosttools

_PROBE = ("import json; from tmax.sandbox import disk, podman_store; "
          "from tmax.sandbox.container_cli import engine_argv; "
          "print(json.dumps([podman_store.unavailable(), disk.unavailable(), list(engine_argv('podman'))]))")


def _probe(path: str) -> list:
    env = {"PATH": path, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_a_short_path_gets_the_same_store_quota_and_runtime():
    full = _probe("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    if full[0] is not None and full[1] is not None:
        pytest.skip(f"neither the podman store nor the disk quota is available here: {full[:2]}")
    short = _probe("/usr/bin:/bin")
    assert short[:2] == full[:2]
    # the same flags; runc may be found at another of its paths (/usr/bin and /usr/sbin on merged /usr)
    def flags(argv: list[str]) -> list[str]:
        return [os.path.basename(a) if a.endswith("/runc") else a for a in argv]

    assert flags(short[2]) == flags(full[2])


def test_which_looks_in_the_system_dirs_after_path(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert hosttools.which("sh") in {f"{d}/sh" for d in hosttools.SYSTEM_DIRS}
    assert hosttools.which("no-such-tool-anywhere") is None
    assert hosttools.tool("no-such-tool-anywhere") == "no-such-tool-anywhere"
    (tmp_path / "sh").write_text("#!/bin/true\n")
    (tmp_path / "sh").chmod(0o755)
    assert hosttools.which("sh") == str(tmp_path / "sh")  # PATH first
