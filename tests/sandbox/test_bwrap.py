"""The bubblewrap backend end to end: real bwrap over the base rootfs, nothing mocked."""

from __future__ import annotations

import os
import secrets
import socket
import time
from pathlib import Path

import pytest

from tmax.errors import SandboxError
from tmax.sandbox.base import SandboxSpec
from tmax.sandbox.bwrap import BwrapSandbox

pytestmark = pytest.mark.bwrap


@pytest.fixture
def box(rootfs):
    with BwrapSandbox(rootfs, SandboxSpec(memory_mb=512, pids=256), label="test") as sb:
        yield sb


@pytest.fixture
def listener():
    """A TCP server on the host's loopback: reachable only from the host's network namespace."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    yield server.getsockname()[1]
    server.close()


def test_start_latency_and_limits_are_reported(rootfs):
    start = time.monotonic()
    with BwrapSandbox(rootfs) as sb:
        first = sb.exec("echo ready")
        latency = time.monotonic() - start
        assert first.output == "ready\n"
        assert {"cgroup", "pids", "memory_mb", "cpus", "nofile"} <= set(sb.limits)
        if os.geteuid() == 0:
            assert sb.limits["cgroup"] in ("v1", "v2") and sb.limits["pids"] == 1024
    print(f"\nbwrap start to first output: {latency * 1000:.0f} ms; limits: {sb.limits}")


def test_shell_state_survives_between_commands(box):
    assert box.exec("cd /tmp && export GREETING=hi && f() { echo fn-$1; }").exit_code == 0
    result = box.exec("pwd; echo $GREETING; f ok")
    assert result.output == "/tmp\nhi\nfn-ok\n" and result.exit_code == 0
    assert box.exec("pwd", timeout=5).output == "/tmp\n"


def test_identity_and_environment(box, monkeypatch):
    out = box.exec("id -u; hostname; echo $HOME $LANG $TERM; pwd; grep CapEff /proc/self/status").output
    assert out.split("\n")[:4] == ["0", "sandbox", "/root C.UTF-8 dumb", "/app"]
    assert "CapEff:\t0000000000000000" in out  # uid 0 without capabilities


def test_host_environment_does_not_leak(rootfs, monkeypatch):
    monkeypatch.setenv("TMAX_HOST_ONLY_SECRET", "s3cret")
    with BwrapSandbox(rootfs, SandboxSpec(env={"TASK_VAR": "1"})) as sb:
        out = sb.exec("env").output
    assert "s3cret" not in out and "TASK_VAR=1" in out


def test_timeout_kills_the_command_but_keeps_the_shell(box):
    box.exec("cd /var/tmp && export KEEP=1")
    result = box.exec("sleep 60 & sleep 60", timeout=1)
    assert result.timed_out and not result.shell_restarted and result.duration_s < 10
    assert box.exec("pwd; echo $KEEP").output == "/var/tmp\n1\n"
    assert "sleep 60" not in box.exec("ps -eo args").output  # the orphan died too


def test_builtin_loop_restarts_the_shell_and_says_so(box):
    result = box.exec("while :; do :; done", timeout=1)
    assert result.timed_out and result.shell_restarted and "new shell" in result.output
    assert box.exec("echo alive").output == "alive\n"


def test_kill_everything_from_inside_does_not_end_the_sandbox(box):
    box.exec("kill -9 -1")
    assert box.exec("echo alive").output == "alive\n"
    box.exec("exit 3")
    assert box.exec("echo again").output == "again\n"


def test_extra_shells_share_the_sandbox(box):
    box.exec("cd /tmp && echo shared > /tmp/note && sleep 300 &")
    other = box.open_shell(env={"ROLE": "verifier"})
    try:
        # the background job may not have exec'd sleep yet: wait for it (a flake under load)
        out = other.run("pwd; echo $ROLE; cat /tmp/note; for _ in $(seq 50); do pgrep -x sleep >/dev/null && break; "
                        "sleep 0.1; done; pgrep -xc sleep").output.split()
        assert out[:3] == ["/app", "verifier", "shared"] and int(out[3]) >= 1
        namespaces = "readlink /proc/self/ns/{mnt,pid,net,ipc,uts,user,cgroup}"
        assert other.run(namespaces).output == box.exec(namespaces).output
        assert "CapEff:\t0000000000000000" in other.run("grep CapEff /proc/self/status").output
    finally:
        other.close()


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
    box.download("/etc/debian_version", tmp_path / "v")  # read-only paths come from the rootfs
    assert (tmp_path / "v").read_text().strip()


def test_upload_to_read_only_paths_is_refused(box, tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(SandboxError) as err:
        box.upload(tmp_path / "f", "/usr/local/bin/f")
    assert "read-only" in str(err.value) and "/app" in str(err.value) and "/tests" in str(err.value)


def test_symlinks_planted_inside_cannot_reach_host_files(box, tmp_path):
    host_file = tmp_path / "host-only.txt"
    host_file.write_text("host\n")
    box.exec(f"ln -s {tmp_path} /app/escape && ln -s /etc /app/etc && ln -s {host_file} /logs/reward.txt")
    (tmp_path / "f").write_text("x")
    with pytest.raises(SandboxError):
        box.upload(tmp_path / "f", "/app/etc/passwd")  # the sandbox's /etc is read-only
    box.upload(tmp_path / "f", "/app/escape/new")  # lands in the sandbox's own path of that name
    assert not (tmp_path / "escape").exists() and sorted(os.listdir(tmp_path)) == ["f", "host-only.txt"]
    with pytest.raises(SandboxError):
        box.download("/logs/reward.txt", tmp_path / "leak")  # resolves inside: no such file


def test_writes_outside_the_writable_dirs_fail_inside(box, rootfs):
    for path in ("/newfile", "/usr/x", "/etc/x", "/proc/sys/kernel/core_pattern"):
        assert box.exec(f"echo x > {path}").exit_code != 0, path
    assert box.exec("mount -o remount,rw,bind /usr").exit_code != 0
    for path in ("/app/x", "/tmp/x", "/var/tmp/x", "/root/x", "/logs/x", "/tests/x", "/solution/x"):
        assert box.exec(f"echo x > {path}").exit_code == 0, path
    assert not (rootfs / "app" / "x").exists() and not (rootfs / "tmp" / "x").exists()


def test_workdir_is_a_private_copy_of_the_rootfs(rootfs):
    with BwrapSandbox(rootfs, workdir="/etc/apt") as sb:
        assert sb.exec("pwd; test -d sources.list.d && echo seeded").output == "/etc/apt\nseeded\n"
        assert sb.exec("echo x > /etc/apt/new && cat /etc/apt/new").output == "x\n"
    assert not (rootfs / "etc" / "apt" / "new").exists()


def test_no_network_egress(box, listener):
    result = box.exec("timeout 10 bash -c 'echo > /dev/tcp/10.255.255.1/80' && echo CONNECTED", timeout=20)
    assert result.exit_code != 0 and "CONNECTED" not in result.output and result.duration_s < 5
    host = box.exec(f"timeout 10 bash -c 'echo > /dev/tcp/127.0.0.1/{listener}' && echo CONNECTED")
    assert "CONNECTED" not in host.output  # the sandbox's loopback is its own


def test_network_on_shares_the_host_network(rootfs, listener):
    with BwrapSandbox(rootfs, SandboxSpec(network=True)) as sb:
        result = sb.exec(f"timeout 10 bash -c 'echo > /dev/tcp/127.0.0.1/{listener}' && echo CONNECTED")
    assert "CONNECTED" in result.output


def test_host_secrets_are_not_visible(box):
    name = f"tmax-secret-{secrets.token_hex(4)}"
    secret = Path.home() / name
    secret.write_text("do-not-read\n")
    try:
        out = box.exec(f"cat ~/{name} {secret}; grep -rs do-not-read /root /tmp /work").output
        assert "do-not-read" not in out
        assert name not in box.exec("ls -A /root /tmp; ls /work").output
    finally:
        secret.unlink()


def test_host_root_view_masks_private_dirs(tmp_path):
    name = f"tmax-secret-{secrets.token_hex(4)}"
    secret = Path.home() / name
    secret.write_text("do-not-read\n")
    try:
        with BwrapSandbox(Path("/"), host_root=True) as sb:
            assert sb.exec("test -x /usr/bin/bash && echo ok").output == "ok\n"
            assert "do-not-read" not in sb.exec(f"cat /root/{name} {secret}").output
            listing = sb.exec("ls -A /work /root /home /tmp /var").output.split()
            assert listing == ["/home:", "/root:", "/tmp:", "/var:", "tmp", "/work:"]
            assert sb.exec("echo x > /etc/x").exit_code != 0
            assert sb.exec("echo x > /app/y && cat /app/y").output == "x\n"
    finally:
        secret.unlink()


def test_fork_bomb_is_contained(rootfs):
    with BwrapSandbox(rootfs, SandboxSpec(pids=128)) as sb:
        if sb.limits["pids"] is None:
            pytest.skip(f"no pids limit here: {sb.limits.get('note')}")
        result = sb.exec("b(){ b|b& }; b; sleep 30", timeout=5)
        assert result.timed_out
        assert sb.exec("echo alive").output == "alive\n"
        assert int(sb.exec("ps -e --no-headers | wc -l").output) < 10


def test_memory_hog_is_killed(rootfs):
    with BwrapSandbox(rootfs, SandboxSpec(memory_mb=256)) as sb:
        if sb.limits["memory_mb"] is None:
            pytest.skip(f"no memory limit here: {sb.limits.get('note')}")
        result = sb.exec("python3 -c 'x = b\"1\" * (1 << 30); print(\"sur\" + \"vived\")'", timeout=60)
        assert result.exit_code == 137 and "survived" not in result.output
        assert sb.exec("echo alive").output == "alive\n"


def test_close_frees_everything_and_is_idempotent(rootfs):
    sb = BwrapSandbox(rootfs)
    sb.exec("sleep 300 &")
    scratch, init, groups = sb._dir, sb._init_pid, list(sb._cgroup.dirs)
    sb.close()
    sb.close()
    assert not scratch.exists() and not any(g.exists() for g in groups)
    assert not Path(f"/proc/{init}").exists() or "zombie" in Path(f"/proc/{init}/status").read_text()


def test_spec_writable_makes_more_directories_writable_and_seeded(rootfs):
    """A separate verifier's workspace (``SandboxSpec.writable``): writable besides the workdir,
    seeded with the rootfs's content, still per sandbox."""
    def listing() -> dict[str, list[str]]:
        return {d: sorted(os.listdir(rootfs / d)) for d in (".", "srv", "opt")}

    before = listing()
    with BwrapSandbox(rootfs, SandboxSpec(writable=["/srv/out", "/etc", "/var/lib/new/deep"]), workdir="/app") as sb:
        assert sb.exec("echo hi > /srv/out/x && cat /srv/out/x").output.strip() == "hi"
        assert sb.exec("echo v >> /etc/motd && test -s /etc/os-release && echo seeded").output.strip() == "seeded"
        assert sb.exec("touch /var/lib/new/deep/f && test -d /var/lib/dpkg && echo both").output.strip() == "both"
        for path in ("/usr/nope", "/srv/nope", "/var/lib/nope", "/opt/nope"):  # the rest stays read-only
            assert sb.exec(f"touch {path}").exit_code != 0, path
    # Mount points the root lacks are made in the sandbox only: the rootfs is shared by every
    # sandbox of its image, so an empty /srv/out there would show up in all of them.
    assert listing() == before
    assert not (rootfs / "var/lib/new").exists()


def test_copies_keep_hard_links_and_symlinks(box, tmp_path):
    """Uploads and downloads of a tree keep files that are hard-linked to each other linked (a
    dedupe task's answer is its links) and links as links."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "a").write_text("same")
    os.link(src / "a", src / "b")
    (src / "c").symlink_to("a")
    box.upload(src, "/app/tree")
    assert box.exec("stat -c %i /app/tree/a /app/tree/b | uniq | wc -l; readlink /app/tree/c").output.split() == ["1", "a"]
    box.exec("mkdir /app/more && echo x > /app/more/y && ln /app/more/y /app/more/z")
    box.download("/app/more", tmp_path / "out")
    assert (tmp_path / "out" / "y").stat().st_ino == (tmp_path / "out" / "z").stat().st_ino
