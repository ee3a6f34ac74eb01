"""The adversarial suite: a task per attack class, the attack as its reference solution run by
the oracle agent, on podman and bwrap. Each honest verifier writes 0 (nothing legitimate can
make it write 1), so every attack must score exactly 0 -- never 1, never a masked error -- leave
the host untouched, and leave the next trial of the same image fine.
"""

from __future__ import annotations

import http.server
import json
import os
import secrets
import shutil
import threading
import time
from pathlib import Path

import pytest

from tests.tasks.test_task import make_task
from tmax.tasks import load_task
from tmax.trial import run_trial

pytestmark = pytest.mark.podman  # bwrap trials build their image with podman too

DOCKERFILE = "FROM ubuntu:24.04\nWORKDIR /app\n"
HONEST = "sleep 0.5\necho 0 > /logs/verifier/reward.txt\n"  # gives the attackers time to act

ATTACKS = {
    # a daemon that keeps writing a reward of 1 into the verifier's output
    "reward-writer": ("nohup setsid bash -c 'while :; do mkdir -p /logs/verifier 2>/dev/null; "
                      "echo 1 > /logs/verifier/reward.txt 2>/dev/null; done' >/dev/null 2>&1 &\nsleep 0.2\n"),
    # a daemon that swaps the tests for a script that writes 1, right after they are uploaded
    "test-swap": ("nohup setsid bash -c 'while :; do [ -f /tests/test.sh ] && grep -q sleep /tests/test.sh && "
                  "echo \"mkdir -p /logs/verifier; echo 1 > /logs/verifier/reward.txt\" > /tests/test.sh; done' "
                  ">/dev/null 2>&1 &\nsleep 0.2\n"),
    # a daemon that empties the reward file, hoping for a masked "no reward" error
    "reward-emptier": ("nohup setsid bash -c 'while :; do : > /logs/verifier/reward.txt 2>/dev/null; done' "
                       ">/dev/null 2>&1 &\nsleep 0.2\n"),
    # a reward file planted as a link (to a file holding 1, and to a host file)
    "reward-link": ("mkdir -p /logs/verifier; echo 1 > /app/one; ln -sf /app/one /logs/verifier/reward.txt; "
                    "ln -sf /etc/hostname /logs/verifier/reward.json\n"),
    # end the sandbox's init and everything else
    "kill-init": "kill -9 1; kill -9 -1\n",
    # a fork bomb left running when the agent's turn ends
    "fork-bomb": "nohup setsid bash -c ':(){ :|:& };:' >/dev/null 2>&1 &\nsleep 1\n",
    # more memory than the sandbox has
    "memory-hog": "python3 -c 'a = bytearray(3 << 30); print(len(a))' || true\n",
    # one huge file (past the default storage_mb of 10 GB)
    "disk-fill": "fallocate -l 50G /app/big || true\n",
    # probes of /proc, mounts and kernel settings
    "proc-probes": ("echo '|/bin/sh -c id' > /proc/sys/kernel/core_pattern 2>/dev/null; "
                    "mount -t tmpfs x /mnt 2>/dev/null; mount -o remount,rw / 2>/dev/null; "
                    "echo 1 > /proc/sysrq-trigger 2>/dev/null; cat /proc/1/environ >/dev/null 2>&1; true\n"),
}


@pytest.fixture(params=["podman", "bwrap"])
def backend(request, podman_image):
    if request.param == "bwrap":
        request.getfixturevalue("rootfs")
    return request.param


def _trial(tmp_path: Path, name: str, solve: str, backend: str, test: str = HONEST) -> tuple[float | None, dict]:
    task = load_task(make_task(tmp_path / "tasks" / name, dockerfile=DOCKERFILE, test=test, solve=solve))
    summary = run_trial(task, tmp_path / "jobs", agent="oracle", backend=backend,
                        trial_name=f"{name}-{secrets.token_hex(3)}")
    return summary.reward, json.loads((summary.trial_dir / "result.json").read_text())


def _host_state() -> tuple[str, int]:
    return Path("/proc/sys/kernel/core_pattern").read_text(), shutil.disk_usage("/").free


def scores_zero_and_the_next_trial_is_fine(tmp_path: Path, attack: str, backend: str, run) -> None:
    """``run()`` plays the attack's trial: reward exactly 0, no masked error, the host's core
    pattern and free disk unchanged, then an honest trial of the same image scores 1."""
    core_before, free_before = _host_state()
    reward, result = run()
    assert result["exception_info"] is None, result["exception_info"]
    assert reward == 0.0, result["verifier_result"]
    core_after, free_after = _host_state()
    assert core_after == core_before
    assert free_before - free_after < 1 << 30
    honest, after = _trial(tmp_path, f"{attack}-next", "touch /app/done\n", backend,
                           test="[ -f /app/done ] && echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n")
    assert honest == 1.0 and after["exception_info"] is None


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_scores_exactly_zero_and_the_next_trial_is_fine(tmp_path, backend, attack):
    scores_zero_and_the_next_trial_is_fine(tmp_path, attack, backend,
                                           lambda: _trial(tmp_path, attack, ATTACKS[attack], backend))


def test_host_loopback_port_is_unreachable(tmp_path, backend):
    """A server on the host's loopback: the sandbox (no network) cannot reach it."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"secret")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    attack = (f"(exec 3<>/dev/tcp/127.0.0.1/{port} && printf 'GET /leak HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3 > /app/got) "
              f"2>/dev/null; curl -s http://127.0.0.1:{port}/curl >> /app/got 2>/dev/null; true\n")
    try:
        reward, result = _trial(tmp_path, "loopback", attack, backend,
                                test="grep -q secret /app/got 2>/dev/null && echo 1 > /logs/verifier/reward.txt "
                                     "|| echo 0 > /logs/verifier/reward.txt\n")
    finally:
        server.shutdown()
    assert hits == [] and reward == 0.0 and result["exception_info"] is None


def test_tests_upload_never_follows_a_link_swapped_in_by_a_racing_process(rootfs, tmp_path):
    """The bwrap host-escape race: a process inside flips /tests/<file> between absent and a
    link to a host path while the host uploads there. Uploads go through directory handles
    with O_NOFOLLOW, so the host path is never written, however often it is tried."""
    from tmax.errors import SandboxError
    from tmax.sandbox.bwrap import BwrapSandbox

    canary = Path(f"/tmp/tmax-canary-{secrets.token_hex(4)}")
    src = tmp_path / "tests"
    src.mkdir()
    (src / "helper.sh").write_text("echo helper\n")
    box = BwrapSandbox(rootfs)
    try:
        box.exec(f"mkdir -p /tests; nohup bash -c 'while :; do rm -f /tests/helper.sh; "
                 f"ln -s {canary} /tests/helper.sh 2>/dev/null; done' >/dev/null 2>&1 &")
        refused = 0
        for _ in range(300):
            try:
                box.upload(src, "/tests")
            except SandboxError:
                refused += 1
        assert not canary.exists() and not os.path.lexists(canary)
        print(f"{refused} of 300 uploads refused while the link was being swapped in")
        box.end_processes()  # the racing loop is gone: the upload now lands
        box.upload(src, "/tests")
        assert box.exec("bash /tests/helper.sh").output == "helper\n"
    finally:
        box.close()
        if os.path.lexists(canary):
            canary.unlink()


@pytest.mark.parametrize("sandbox", ["podman", "bwrap"])
def test_end_processes_leaves_nothing_running(sandbox, podman_image, rootfs):
    from tmax.sandbox import SandboxSpec
    from tmax.sandbox.bwrap import BwrapSandbox
    from tmax.sandbox.container import ContainerSandbox

    box = BwrapSandbox(rootfs) if sandbox == "bwrap" else ContainerSandbox(podman_image, SandboxSpec())
    try:
        box.exec("nohup setsid sleep 1000 >/dev/null 2>&1 & nohup bash -c 'while :; do sleep 1; done' "
                 ">/dev/null 2>&1 &")
        started = time.monotonic()
        box.end_processes()
        took = time.monotonic() - started
        assert box.exec("pgrep -fc 'sleep 1000|while :' || true").output.strip() == "0"
        assert took < 5
    finally:
        box.close()


def test_disk_fill_stops_at_storage_mb(tmp_path, backend):
    """Writes past the task's storage_mb fail inside the sandbox (the agent's own log shows
    ENOSPC or EDQUOT, its files never hold more than the limit), and the trial scores 0 -- the
    tests, which share that disk, may then not even fit: a failure the agent caused."""
    task = load_task(make_task(
        tmp_path / "tasks" / "disk-fill", toml='version = "1.0"\n[environment]\nstorage_mb = 64\n',
        dockerfile=DOCKERFILE,
        solve="fallocate -l 50G /app/big; rm -f /app/big\n"
              "for i in 1 2 3; do head -c 40M /dev/zero > /app/f$i; done; du -cm /app/f* | tail -1; true\n",
        test="echo 1 > /logs/verifier/reward.txt\n"))  # would pass: the disk fill itself must make it 0
    summary = run_trial(task, tmp_path / "jobs", agent="oracle", backend=backend)
    result = json.loads((summary.trial_dir / "result.json").read_text())
    log = (summary.trial_dir / "agent" / "oracle.txt").read_text()
    assert "No space left on device" in log or "Disk quota exceeded" in log, log
    assert 40 <= int(log.split()[-2]) <= 64, log  # du: MB the three files hold; the first one fit
    assert result["exception_info"] is None
    assert summary.reward == 0.0
    storage = result["environment"]["limits"]["storage"]
    assert "64 MB" in storage and "no total" not in storage, storage


def test_keep_agent_processes_is_harbor_semantics_and_forgeable(tmp_path, backend):
    """The opt-in for tests that probe services the agent left running: the service answers the
    verifier -- and so does a reward writer, which is why it is off by default and never for RL."""
    service = ("nohup setsid python3 -m http.server 8765 --directory /app >/dev/null 2>&1 &\n"
               "for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/8765) 2>/dev/null && break; sleep 0.1; done\n")
    test = ("(exec 3<>/dev/tcp/127.0.0.1/8765) 2>/dev/null && echo 1 > /logs/verifier/reward.txt "
            "|| echo 0 > /logs/verifier/reward.txt\n")
    task = load_task(make_task(tmp_path / "tasks" / "svc", dockerfile=DOCKERFILE, test=test, solve=service))
    strict = run_trial(task, tmp_path / "jobs", agent="oracle", backend=backend, trial_name="strict")
    kept = run_trial(task, tmp_path / "jobs", agent="oracle", backend=backend, trial_name="kept",
                     keep_agent_processes=True)
    assert (strict.reward, kept.reward) == (0.0, 1.0)
