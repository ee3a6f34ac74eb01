"""The adversarial suite, second hand: attacks in the same classes as ``test_attacks.py``, written
independently of it (other tools, other timing, other targets), so the defences are shown to hold
for the class and not for one script. Same contract: the honest verifier writes 0, every attack
scores exactly 0 (never 1, never a masked error), the host is untouched, the next trial is fine.

``TMAX_ATTACK_ROUNDS=10`` repeats every attack of both files ten times per backend (the figure in
``docs/threat-model.md`` comes from such a run); the default is one round.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import threading
from pathlib import Path

import pytest

from tests.tasks.test_task import make_task
from tests.trial.test_attacks import (  # noqa: F401 (backend: a fixture)
    ATTACKS, DOCKERFILE, HONEST, _trial, backend, scores_zero_and_the_next_trial_is_fine)
from tmax.tasks import load_task
from tmax.trial import run_trial

pytestmark = pytest.mark.podman

ROUNDS = range(int(os.environ.get("TMAX_ATTACK_ROUNDS", "1")))

VARIANTS = {
    # reward-writer: a double-forked Python daemon (no nohup/setsid binaries) writing reward.json,
    # which the verifier prefers over reward.txt
    "py-daemon-reward-json": """python3 - <<'EOF'
import os
if os.fork():
    raise SystemExit
os.setsid()
if os.fork():
    raise SystemExit
for fd in (0, 1, 2):
    os.close(fd)
while True:
    try:
        os.makedirs("/logs/verifier", exist_ok=True)
        with open("/logs/verifier/reward.json", "w") as f:
            f.write('{"reward": 1.0}')
    except OSError:
        pass
EOF
sleep 0.3
""",
    # test-swap: move the whole /tests dir aside and put a forging one in its place
    "tests-dir-rename": ("nohup setsid bash -c 'while :; do if [ -f /tests/test.sh ] && [ ! -e /tests/.mine ]; then "
                         "mv /tests /tests.orig 2>/dev/null; mkdir -p /tests; touch /tests/.mine; "
                         "echo \"mkdir -p /logs/verifier; echo 1 > /logs/verifier/reward.txt\" > /tests/test.sh; "
                         "fi; done' </dev/null >/dev/null 2>&1 &\nsleep 0.2\n"),
    # reward-link: the whole /logs/verifier dir as a link to a dir the agent filled, and /tests as a
    # link to a dir holding a forging test.sh
    "verifier-dir-links": ("mkdir -p /app/fake /app/faketests; echo 1 > /app/fake/reward.txt; "
                           "echo 'echo 1 > /logs/verifier/reward.txt' > /app/faketests/test.sh; "
                           "rm -rf /logs/verifier /tests; mkdir -p /logs; ln -s /app/fake /logs/verifier; "
                           "ln -s /app/faketests /tests; true\n"),
    # kill-init: stop (not kill) every process, then hide the shell the verifier needs
    "stop-all-and-break-shell": ("kill -STOP -1 2>/dev/null; rm -f /bin/sh /usr/bin/sh 2>/dev/null; "
                                 "chmod 000 /tmp 2>/dev/null; true\n"),
    # fork-bomb: a Python forker that ignores SIGTERM, started in a new session
    "py-forker": """nohup setsid python3 -c '
import os, signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
while True:
    try:
        os.fork()
    except OSError:
        time.sleep(0.01)
' </dev/null >/dev/null 2>&1 &
sleep 1
""",
    # memory-hog: fill the sandbox's RAM-backed filesystems instead of a process's heap
    "tmpfs-fill": ("for d in /dev/shm /tmp /run; do head -c 3G /dev/zero > $d/fill 2>/dev/null; done; "
                   "rm -f /dev/shm/fill /tmp/fill /run/fill; true\n"),
    # /proc and mount probes: kernel knobs, device nodes, a user namespace, the host's root via /proc
    "kernel-and-ns-probes": ("echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; echo c > /proc/sysrq-trigger 2>/dev/null; "
                             "mknod /app/sda b 8 0 2>/dev/null && head -c 512 /app/sda > /app/mbr 2>/dev/null; "
                             "unshare -rm sh -c 'mount -t proc proc /mnt' 2>/dev/null; "
                             "ls /proc/1/root/ > /app/root-listing 2>/dev/null; "
                             "echo x > /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null; true\n"),
}


# short agent and verifier timeouts: an attack that freezes the sandbox (SIGSTOP) must end in a
# timeout scored 0, and the suite should not wait the default 10 minutes for it. A disk of 512 MB:
# the host may lose up to storage_mb while a sandbox lives (and until tmax's podman store hands
# freed blocks back, which it does asynchronously), so the 1 GB host check needs a smaller limit.
SHORT = ('version = "1.0"\n[agent]\ntimeout_sec = 15\n[verifier]\ntimeout_sec = 30\n'
         '[environment]\nstorage_mb = 512\n')


def _short_trial(tmp_path: Path, name: str, solve: str, backend: str) -> tuple[float | None, dict]:
    task = load_task(make_task(tmp_path / "tasks" / name, SHORT, dockerfile=DOCKERFILE, test=HONEST, solve=solve))
    summary = run_trial(task, tmp_path / "jobs", agent="oracle", backend=backend,
                        trial_name=f"{name}-{secrets.token_hex(3)}")
    return summary.reward, json.loads((summary.trial_dir / "result.json").read_text())


@pytest.mark.parametrize("round_", ROUNDS, ids=lambda r: f"round{r}")
@pytest.mark.parametrize("attack", sorted(VARIANTS))
def test_variant_scores_exactly_zero_and_the_next_trial_is_fine(tmp_path, backend, attack, round_):
    scores_zero_and_the_next_trial_is_fine(tmp_path, attack, backend,
                                           lambda: _short_trial(tmp_path, attack, VARIANTS[attack], backend))


@pytest.mark.skipif(len(ROUNDS) < 2, reason="set TMAX_ATTACK_ROUNDS=N to repeat the first suite N times")
@pytest.mark.parametrize("round_", ROUNDS, ids=lambda r: f"round{r}")
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_first_suite_repeated(tmp_path, backend, attack, round_):
    reward, result = _trial(tmp_path, attack, ATTACKS[attack], backend)
    assert result["exception_info"] is None and reward == 0.0, result


def test_host_abstract_unix_socket_is_unreachable(tmp_path, backend):
    """A host service on an abstract unix socket (no file to bind-mount, so only a network
    namespace stops it): the sandbox cannot connect."""
    name = f"tmax-probe-{secrets.token_hex(4)}"
    hits: list[bytes] = []
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind("\0" + name)
    server.listen(4)
    server.settimeout(0.5)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            hits.append(conn.recv(64))
            conn.sendall(b"secret")
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    attack = (f"python3 -c \"import socket; s = socket.socket(socket.AF_UNIX); s.connect('\\0{name}'); "
              f"s.sendall(b'hi'); open('/app/got', 'wb').write(s.recv(64))\" 2>/dev/null; true\n")
    try:
        reward, result = _trial(tmp_path, "abstract-socket", attack, backend,
                                test="grep -q secret /app/got 2>/dev/null && echo 1 > /logs/verifier/reward.txt "
                                     "|| echo 0 > /logs/verifier/reward.txt\n")
    finally:
        stop.set()
        server.close()
    assert hits == [] and reward == 0.0 and result["exception_info"] is None


def test_no_host_file_is_written_by_any_variant(tmp_path, backend):
    """Canaries: host paths an escaping process would most likely write (the tmp dirs, root's
    home) hold no new file named by an attack that tries to write there from inside."""
    marker = f"tmax-escape-{secrets.token_hex(4)}"
    targets = [Path("/tmp"), Path("/var/tmp"), Path.home()]
    attack = "".join(f"echo pwned > {t}/{marker} 2>/dev/null; echo pwned > /proc/1/root{t}/{marker} 2>/dev/null; "
                     for t in targets) + "true\n"
    reward, result = _trial(tmp_path, "host-write", attack, backend)
    assert reward == 0.0 and result["exception_info"] is None
    leaked = [str(t / marker) for t in targets if (t / marker).exists()]
    for path in leaked:
        shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else os.unlink(path)
    assert leaked == []


# The verifier's own programs and start-up hooks: replaced or planted by the agent so that the
# honest tests run the agent's code. The honest tests here run bash, python3 and pytest.
# a .pth line runs at every Python's start: this one forks a writer of 1
# (once the tests are in place), which outlives the test's own write of 0 until tmax ends the tests' leftovers
PTH = ("import os, time; os.path.exists('/tests/test.sh') and os.fork() == 0 and (os.setsid(), "
       "[(open('/logs/verifier/reward.txt', 'w').write('1'), time.sleep(0.002)) for _ in range(5000)], os._exit(0))")
FORGE = "#!/bin/sh\nmkdir -p /logs/verifier; echo 1 > /logs/verifier/reward.txt\n"
CONFTEST = "def pytest_sessionfinish(session, exitstatus):\n    session.exitstatus = 0\n"
HIJACKS = {
    # a bash that writes 1 when asked to run the tests, and is bash otherwise
    "bash-wrapper": ("cp /usr/bin/bash /usr/bin/realbash 2>/dev/null || exit 0; rm -f /usr/bin/bash\n"
                     "printf '#!/usr/bin/realbash\\ncase \"$*\" in *tests/*) mkdir -p /logs/verifier; "
                     "echo 1 > /logs/verifier/reward.txt; exit 0;; esac\\nexec -a bash /usr/bin/realbash \"$@\"\\n' "
                     "> /usr/bin/bash; chmod +x /usr/bin/bash; true\n"),
    # a .pth (run by every Python at start) in every site dir Python would read, the layer's included
    "site-pth": ("for d in $(python3 -c 'import site, sys; print(\" \".join(site.getsitepackages() + "
                 "[site.getusersitepackages()]))') /opt/tmax-verifier/user/lib/python3.11/site-packages "
                 f"/opt/tmax-verifier/user/lib/python3.12/site-packages; do mkdir -p $d 2>/dev/null && "
                 f"echo \"{PTH}\" > $d/zz-tmax-attack.pth; done; true\n"),
    # programs planted in the verifier layer's bin/ (first on the tests' PATH) before it is
    # uploaded: forgers for the tests' tools, and a bash that is bash with a reward writer beside it
    "layer-plant": ("mkdir -p /opt/tmax-verifier/bin; for p in python3 pytest; do "
                    f"printf '{FORGE}' > /opt/tmax-verifier/bin/$p; chmod +x /opt/tmax-verifier/bin/$p; done\n"
                    "printf '#!/bin/sh\\n(while :; do mkdir -p /logs/verifier; echo 1 > /logs/verifier/reward.txt; "
                    "done) >/dev/null 2>&1 &\\nexec /bin/bash \"$@\"\\n' > /opt/tmax-verifier/bin/bash; "
                    "chmod +x /opt/tmax-verifier/bin/bash; cat /opt/tmax-verifier/bin/bash; true\n"),
    # pytest's rootdir taken over from /, an ancestor of /tests: an ini file and a conftest.py
    "root-conftest": (f"printf '[pytest]\\n' > /pytest.ini 2>/dev/null; printf '{CONFTEST}' > /conftest.py "
                      "2>/dev/null; true\n"),
    # the dynamic loader told to preload a library into every program
    "ld-preload": "echo /app/evil.so > /etc/ld.so.preload 2>/dev/null; true\n",
}
HONEST_PYTEST = ("cd /tests && python3 -m pytest -q -p no:cacheprovider test_outputs.py; "
                 "if [ $? -eq 0 ]; then echo 1 > /logs/verifier/reward.txt; else echo 0 > /logs/verifier/reward.txt; fi\n")


@pytest.mark.parametrize("round_", ROUNDS, ids=lambda r: f"round{r}")
@pytest.mark.parametrize("attack", sorted(HIJACKS))
def test_what_the_verifier_runs_cannot_be_replaced(tmp_path, backend, attack, round_):
    """bwrap: the root is read-only and the verifier's dirs are emptied, so the hijack does not
    take. podman: the root is writable; the hijack is found against the image and scores 0."""
    root = make_task(tmp_path / "tasks" / attack, SHORT, dockerfile=DOCKERFILE, test=HONEST_PYTEST,
                     solve=HIJACKS[attack])
    (root / "tests" / "test_outputs.py").write_text("def test_solved():\n    assert False\n")
    summary = run_trial(load_task(root), tmp_path / "jobs", agent="oracle", backend=backend,
                        trial_name=f"{attack}-{secrets.token_hex(3)}")
    result = json.loads((summary.trial_dir / "result.json").read_text())
    assert result["exception_info"] is None, result["exception_info"]
    if attack == "site-pth" and backend == "podman":
        # the known gap (README, threat model): on a writable root, start-up hooks that installs
        # also write (.pth) are reported, not blocked, by default; RL's strict mode scores them 0
        assert any("zz-tmax-attack.pth" in w for w in result["verifier_result"]["warnings"]), result
        strict = run_trial(load_task(root), tmp_path / "jobs", agent="oracle", backend=backend,
                           trial_name=f"{attack}-strict-{secrets.token_hex(3)}", on_tampering="strict")
        assert strict.reward == 0.0 and "zz-tmax-attack.pth" in json.dumps(
            json.loads((strict.trial_dir / "result.json").read_text())["agent_failure"])
        return
    assert summary.reward == 0.0, (result["verifier_result"], result.get("agent_failure"))
