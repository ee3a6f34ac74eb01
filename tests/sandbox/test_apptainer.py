"""The Apptainer backend end to end: a real instance over the base rootfs, nothing mocked.

These tests need the ``apptainer`` (or ``singularity``) binary, 1.1 or newer, and skip
without it. Debian 12 has no package, so they skip on tmax's own CI machines; the first test
(the error without a binary) and the prepare_environment test (podman) run without it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES
from tmax.errors import SandboxError
from tmax.sandbox import BACKENDS, PreparedEnvironment, start_sandbox
from tmax.sandbox.base import SandboxSpec

NOT_INSTALLED = "apptainer is not installed (Debian 12 has no package; install it from apptainer.org to run these)"
installed = pytest.mark.skipif(not (shutil.which("apptainer") or shutil.which("singularity")), reason=NOT_INSTALLED)


def sandbox(rootfs: Path, spec: SandboxSpec | None = None, workdir: str = "/app"):
    from tmax.sandbox.apptainer import ApptainerSandbox

    return ApptainerSandbox(rootfs, spec or SandboxSpec(), workdir=workdir, label="test")


@pytest.fixture
def box(rootfs):
    with sandbox(rootfs, SandboxSpec(memory_mb=512, pids=256)) as sb:
        yield sb


@pytest.fixture
def listener():
    """A TCP server on the host's loopback: reachable only from the host's network namespace."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    yield server.getsockname()[1]
    server.close()


def test_missing_binary_names_the_backend_and_the_fix(tmp_path, monkeypatch):
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert "apptainer" in BACKENDS
    env = PreparedEnvironment(image="unused", workdir="/app", rootfs=tmp_path)
    with pytest.raises(SandboxError) as err:
        start_sandbox("apptainer", env, SandboxSpec(), label="no-binary")
    assert err.value.where == "sandbox backend `apptainer`"
    assert "apptainer is not installed" in err.value.what
    assert "https://apptainer.org/docs/admin/main/installation.html" in err.value.fix
    assert "--sandbox bwrap" in err.value.fix


@pytest.mark.podman
def test_prepare_environment_unpacks_the_rootfs(podman_image):
    from tmax.sandbox import prepare_environment
    from tmax.tasks import load_task

    env = prepare_environment(load_task(EXAMPLES / "tb1-hello"), "apptainer")
    assert env.rootfs is not None and (env.rootfs / "usr" / "bin" / "bash").exists()
    assert env.workdir == "/app"


@installed
def test_start_latency_and_limits_are_reported(rootfs):
    start = time.monotonic()
    with sandbox(rootfs) as sb:
        assert sb.exec("echo ready").output == "ready\n"
        latency = time.monotonic() - start
        assert {"cgroup", "pids", "memory_mb", "cpus", "swap", "nofile", "network", "writable_root"} <= set(sb.limits)
        assert sb.limits["network"] == "none"
        if os.geteuid() == 0 and os.access("/sys/fs/cgroup", os.W_OK):  # root can use cgroups
            assert sb.limits["cgroup"] == "apptainer" and sb.limits["pids"] == 1024, sb.limits
    print(f"\napptainer start to first output: {latency * 1000:.0f} ms; limits: {sb.limits}")


@installed
def test_shell_state_survives_between_commands(box):
    assert box.exec("cd /tmp && export GREETING=hi && f() { echo fn-$1; }").exit_code == 0
    result = box.exec("pwd; echo $GREETING; f ok")
    assert result.output == "/tmp\nhi\nfn-ok\n" and result.exit_code == 0
    assert box.exec("pwd", timeout=5).output == "/tmp\n"


@installed
def test_identity_and_environment(box):
    out = box.exec("hostname; echo $HOME $LANG $TERM; pwd; grep CapEff /proc/self/status").output.split("\n")
    assert out[:3] == ["sandbox", "/root C.UTF-8 dumb", "/app"]
    if "--fakeroot" not in os.environ.get("TMAX_APPTAINER_ARGS", ""):
        assert "CapEff:\t0000000000000000" in out  # no capabilities, as root or not
        assert box.exec("id -u").output.strip() == str(os.geteuid())  # your own uid (0 as root)


@installed
def test_host_environment_does_not_leak(rootfs, monkeypatch):
    monkeypatch.setenv("TMAX_HOST_ONLY_SECRET", "s3cret")
    monkeypatch.setenv("APPTAINERENV_INJECTED", "s3cret")  # would be injected into the container
    with sandbox(rootfs, SandboxSpec(env={"TASK_VAR": "1"})) as sb:
        out = sb.exec("env").output
    assert "s3cret" not in out and "TASK_VAR=1" in out


@installed
def test_timeout_kills_the_command_but_keeps_the_shell(box):
    box.exec("cd /var/tmp && export KEEP=1")
    result = box.exec("sleep 60 & sleep 60", timeout=1)
    assert result.timed_out and not result.shell_restarted and result.duration_s < 15
    assert box.exec("pwd; echo $KEEP").output.splitlines()[-2:] == ["/var/tmp", "1"]  # after any "Killed" notes
    assert "sleep 60" not in box.exec("ps -eo args").output  # the orphan died too


@installed
def test_builtin_loop_restarts_the_shell_and_says_so(box):
    result = box.exec("while :; do :; done", timeout=1)
    assert result.timed_out and result.shell_restarted and "new shell" in result.output
    assert box.exec("echo alive").output == "alive\n"


@installed
def test_kill_everything_from_inside_does_not_end_the_sandbox(box):
    box.exec("kill -9 -1; kill -TERM 1")
    assert box.exec("echo alive").output == "alive\n"
    box.exec("exit 3")
    assert box.exec("echo again").output == "again\n"


@installed
def test_extra_shells_share_the_sandbox(box):
    box.exec("cd /tmp && echo shared > /tmp/note && sleep 300 &")
    other = box.open_shell(env={"ROLE": "verifier"})
    try:
        out = other.run("pwd; echo $ROLE; cat /tmp/note; pgrep -xc sleep").output.split()
        assert out[:3] == ["/app", "verifier", "shared"] and int(out[3]) >= 1
        namespaces = "readlink /proc/self/ns/{mnt,pid,net,ipc,uts,user}"
        assert other.run(namespaces).output == box.exec(namespaces).output
    finally:
        other.close()


@installed
def test_upload_and_download_round_trip(box, tmp_path):
    src = tmp_path / "payload"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "a.txt").write_text("alpha\n")
    (src / "link").symlink_to("sub/a.txt")
    box.upload(src, "/tests")
    assert box.exec("cat /tests/sub/a.txt /tests/link").output == "alpha\nalpha\n"
    box.upload(src / "sub" / "a.txt", "/app/deep/b.txt")
    assert box.exec("cat /app/deep/b.txt").output == "alpha\n"
    box.exec("mkdir -p /logs/verifier && echo 0.5 > /logs/verifier/reward.txt && mkfifo /logs/verifier/fifo")
    box.download("/logs/verifier/reward.txt", tmp_path / "reward.txt")
    assert (tmp_path / "reward.txt").read_text() == "0.5\n"
    box.download("/logs", tmp_path / "logs")  # the fifo is skipped, not read (it would block)
    assert (tmp_path / "logs" / "verifier" / "reward.txt").read_text() == "0.5\n"
    box.download("/etc/debian_version", tmp_path / "v")  # outside the bound dirs: through tar inside
    assert (tmp_path / "v").read_text().strip()
    with pytest.raises(SandboxError):
        box.download("/no/such/file", tmp_path / "none")


@installed
def test_files_outside_the_bound_dirs_go_through_the_overlay(box, rootfs, tmp_path):
    (tmp_path / "tool").write_text("#!/bin/sh\necho tool\n")
    (tmp_path / "tree" / "d").mkdir(parents=True)
    (tmp_path / "tree" / "d" / "f").write_text("f\n")
    if not box.limits["writable_root"]:  # no overlay on this host: the root is read-only
        with pytest.raises(SandboxError):
            box.upload(tmp_path / "tool", "/usr/local/bin/tool")
        return
    box.upload(tmp_path / "tool", "/usr/local/bin/tool")
    box.upload(tmp_path / "tree", "/opt/tree")
    assert box.exec("sh /usr/local/bin/tool; cat /opt/tree/d/f").output == "tool\nf\n"
    box.exec("echo changed > /etc/motd")
    box.download("/etc/motd", tmp_path / "motd")
    assert (tmp_path / "motd").read_text() == "changed\n"
    assert not (rootfs / "usr" / "local" / "bin" / "tool").exists() and not (rootfs / "opt" / "tree").exists()


@installed
def test_symlinks_planted_inside_cannot_reach_host_files(box, tmp_path):
    host_file = tmp_path / "host-only.txt"
    host_file.write_text("host\n")
    box.exec(f"ln -s {tmp_path} /app/escape && ln -s {host_file} /logs/reward.txt")
    (tmp_path / "f").write_text("x")
    box.upload(tmp_path / "f", "/app/escape/new")  # lands in the sandbox's own path of that name
    assert sorted(os.listdir(tmp_path)) == ["f", "host-only.txt"]
    with pytest.raises(SandboxError):
        box.download("/logs/reward.txt", tmp_path / "leak")  # resolves inside: no such file
    assert not (tmp_path / "leak").exists()


@installed
def test_writes_never_reach_the_cached_rootfs(box, rootfs):
    for path in ("/app/x", "/tmp/x", "/var/tmp/x", "/root/x", "/logs/x", "/tests/x", "/solution/x"):
        assert box.exec(f"echo x > {path}").exit_code == 0, path
    box.exec("echo x > /usr/x")  # the overlay, when the host has one
    # writes back the value it read, so a failure here cannot change the host's core_pattern
    rewrite = 'p=$(cat /proc/sys/kernel/core_pattern); echo "$p" > /proc/sys/kernel/core_pattern'
    assert box.exec(rewrite).exit_code != 0
    for path in ("app/x", "tmp/x", "root/x", "usr/x"):
        assert not (rootfs / path).exists(), path


@installed
def test_workdir_is_a_private_copy_of_the_rootfs(rootfs):
    with sandbox(rootfs, workdir="/etc/apt") as sb:
        assert sb.exec("pwd; test -d sources.list.d && echo seeded").output == "/etc/apt\nseeded\n"
        assert sb.exec("echo x > /etc/apt/new && cat /etc/apt/new").output == "x\n"
    assert not (rootfs / "etc" / "apt" / "new").exists()


@installed
def test_no_network_egress(box, listener):
    result = box.exec("timeout 10 bash -c 'echo > /dev/tcp/10.255.255.1/80' && echo CONNECTED", timeout=20)
    assert result.exit_code != 0 and "CONNECTED" not in result.output and result.duration_s < 5
    host = box.exec(f"timeout 10 bash -c 'echo > /dev/tcp/127.0.0.1/{listener}' && echo CONNECTED")
    assert "CONNECTED" not in host.output  # the sandbox's loopback is its own


@installed
def test_network_on_shares_the_host_network(rootfs, listener):
    with sandbox(rootfs, SandboxSpec(network=True)) as sb:
        assert sb.limits["network"] == "host"
        result = sb.exec(f"timeout 10 bash -c 'echo > /dev/tcp/127.0.0.1/{listener}' && echo CONNECTED")
    assert "CONNECTED" in result.output


@installed
def test_host_secrets_are_not_visible(box):
    name = f"tmax-secret-{secrets.token_hex(4)}"
    secret = Path.home() / name
    secret.write_text("do-not-read\n")
    try:
        out = box.exec(f"cat ~/{name} {secret}; grep -rs do-not-read /root /tmp /home /work").output
        assert "do-not-read" not in out
        assert name not in box.exec("ls -A /root /tmp /home; ls /work").output
    finally:
        secret.unlink()


@installed
def test_fork_bomb_is_contained(rootfs):
    with sandbox(rootfs, SandboxSpec(pids=128)) as sb:
        if sb.limits["pids"] is None:
            pytest.skip(f"no pids limit here: {sb.limits.get('note')}")
        result = sb.exec("b(){ b|b& }; b; sleep 30", timeout=5)
        assert result.timed_out
        assert sb.exec("echo alive").output == "alive\n"
        assert int(sb.exec("ps -e --no-headers | wc -l").output) < 10


@installed
def test_memory_hog_is_killed(rootfs):
    with sandbox(rootfs, SandboxSpec(memory_mb=256)) as sb:
        if sb.limits["memory_mb"] is None:
            pytest.skip(f"no memory limit here: {sb.limits.get('note')}")
        result = sb.exec("python3 -c 'x = b\"1\" * (1 << 30); print(\"sur\" + \"vived\")'", timeout=60)
        assert result.exit_code == 137 and "survived" not in result.output
        assert sb.exec("echo alive").output == "alive\n"


@installed
def test_close_frees_everything_and_is_idempotent(rootfs):
    sb = sandbox(rootfs)
    sb.exec("sleep 300 &")
    scratch, pid, name, binary = sb._dir, sb._pid, sb.instance, sb.binary
    sb.close()
    sb.close()
    assert not scratch.exists()
    assert pid is None or not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
    listed = subprocess.run([binary, "instance", "list", "--json"], capture_output=True, text=True).stdout
    names = [i["instance"] for i in json.loads(listed[listed.index("{"):])["instances"]] if "{" in listed else []
    assert name not in names


@installed
@pytest.mark.podman
@pytest.mark.parametrize("agent,expected", [("oracle", 1.0), ("noop", 0.0)])
def test_every_example_task(tmp_path, podman_image, rootfs, agent, expected):
    """Oracle scores 1 and noop 0 on every example, as on the other backends."""
    from tmax.trial import run_trial
    from tmax.tasks import load_task

    for path in sorted(p for p in EXAMPLES.iterdir() if p.is_dir()):
        summary = run_trial(load_task(path), tmp_path, agent=agent, backend="apptainer")
        assert summary.error is None, (path.name, summary.error)
        assert summary.reward == expected, path.name
