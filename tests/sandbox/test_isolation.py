"""Hostile commands against real sandboxes (podman and bwrap).

Each case must leave the host unharmed, other sandboxes working, and give a clear result.
Network checks only ever name the Debian mirror (a host this machine may reach anyway), so a
failed isolation could not send traffic anywhere else.
"""

from __future__ import annotations

import os
import time
import secrets
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tmax.sandbox.base import SandboxSpec

SPEC = dict(memory_mb=512, pids=256, cpus=1)


@pytest.fixture(params=["podman", "bwrap"])
def make(request, tmp_path):
    """A factory of sandboxes for one backend; closes them all after the test."""
    opened = []
    if request.param == "podman":
        image = request.getfixturevalue("podman_image")
        from tmax.sandbox.container import ContainerSandbox

        def factory(**over):
            sb = ContainerSandbox(image, SandboxSpec(**{**SPEC, **over}), label="iso")
            opened.append(sb)
            return sb
    else:
        rootfs = request.getfixturevalue("rootfs")
        bwrap = pytest.importorskip("tmax.sandbox.bwrap", reason="bwrap backend not built")

        def factory(**over):
            sb = bwrap.BwrapSandbox(rootfs, SandboxSpec(**{**SPEC, **over}), label="iso")
            opened.append(sb)
            return sb
    yield factory
    for sb in opened:
        sb.close()


def host_processes_matching(text: str) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if text in Path(f"/proc/{entry.name}/cmdline").read_bytes().replace(b"\0", b" ").decode():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def wait_for_processes(text: str, timeout: float = 5.0) -> list[int]:
    """Processes started in the background may not have exec'd yet when the command returns."""
    deadline = time.monotonic() + timeout
    while not (found := host_processes_matching(text)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def test_fork_bomb_is_contained(make):
    bystander = make()
    box = make()
    result = box.exec("bomb() { bomb | bomb; }; bomb", timeout=5)
    assert result.timed_out
    assert box.exec("echo recovered", timeout=30).output.strip().endswith("recovered")
    assert bystander.exec("echo fine").output == "fine\n"
    assert subprocess.run(["true"]).returncode == 0  # the host can still fork


def test_rm_rf_root_harms_nothing_outside(make, tmp_path):
    canary = tmp_path / "canary.txt"
    canary.write_text("still here")
    box = make()
    box.exec("rm -rf --no-preserve-root / 2>/dev/null", timeout=120)
    assert canary.read_text() == "still here"
    fresh = make()  # the image / rootfs other sandboxes start from is intact
    assert fresh.exec("ls /usr/bin/bash && echo ok").output.strip().endswith("ok")


def test_endless_output_is_capped(make):
    box = make(output_cap_bytes=100_000, output_limit_bytes=20_000_000)
    result = box.exec("yes tmax", timeout=20)
    assert result.output_limited or result.timed_out
    assert len(result.output) < 100_000 + 200
    assert result.output.startswith("tmax\ntmax\n") and "bytes elided" in result.output
    assert box.exec("echo next").output.strip().endswith("next")


def test_sleep_infinity_times_out(make):
    box = make()
    result = box.exec("sleep infinity", timeout=1)
    assert result.timed_out and not result.shell_restarted
    assert box.exec("echo ok").output == "ok\n"


def test_network_egress_fails_without_network(make):
    box = make()
    result = box.exec("exec 3<>/dev/tcp/deb.debian.org/80 && echo CONNECTED", timeout=30)
    assert "CONNECTED" not in result.output and result.exit_code != 0
    result = box.exec("python3 -c \"import socket; socket.create_connection(('deb.debian.org', 80), 5)\"",
                      timeout=30)
    assert result.exit_code != 0


def test_host_secrets_are_not_readable(make, tmp_path):
    token = secrets.token_hex(8)
    secret = Path("/root") / f".tmax-secret-{token}"
    secret.write_text(token)
    (tmp_path / "secret.txt").write_text(token)
    try:
        box = make()
        result = box.exec(f"cat {secret} {tmp_path}/secret.txt 2>&1; grep -rs {token} /root /tmp /home; true")
        assert token not in result.output.replace(f"-{token}", "")  # the path itself may echo in errors
    finally:
        secret.unlink()


def test_writes_outside_the_sandbox_do_not_reach_the_host(make):
    token = secrets.token_hex(8)
    hostname = socket.gethostname()
    box = make()
    box.exec(f"echo x > /tmax-escape-{token}; echo evil > /proc/sys/kernel/hostname; hostname evil 2>/dev/null; true")
    assert not Path(f"/tmax-escape-{token}").exists()
    assert socket.gethostname() == hostname


def test_background_processes_die_with_the_sandbox(make):
    marker = f"{secrets.randbelow(10**6) + 10**6}.5"
    box = make()
    box.exec(f"(sleep {marker} &) ; nohup sleep {marker} >/dev/null 2>&1 & disown; echo started")
    assert wait_for_processes(f"sleep {marker}")
    box.close()
    assert not host_processes_matching(f"sleep {marker}")


def test_non_utf8_output(make):
    result = make().exec(r"printf 'ok \x80\xff\n'; head -c 64 /dev/urandom; echo")
    assert result.exit_code == 0 and result.output.startswith("ok ")


def test_sixteen_concurrent_sandboxes_do_not_collide(make):
    def one(i: int) -> str:
        box = make()
        box.exec(f"echo {i} > /tmp/me; (python3 -m http.server 8000 >/dev/null 2>&1 &)")
        # 16 servers start at once on a few cores: wait until this one listens (up to 30 s)
        box.exec("for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/8000) 2>/dev/null && break; sleep 0.1; done",
                 timeout=60)
        got = box.exec("cat /tmp/me; python3 -c \"import urllib.request as u; "
                       "print(u.urlopen('http://127.0.0.1:8000/', timeout=10).status)\"", timeout=60)
        return got.output

    with ThreadPoolExecutor(16) as pool:
        outputs = list(pool.map(one, range(16)))
    for i, out in enumerate(outputs):
        assert out.split() == [str(i), "200"], (i, out)
