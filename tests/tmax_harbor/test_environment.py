"""tmax's sandboxes as Harbor environments, driven by the real `harbor run` CLI (harbor 0.25.0,
.venv-harbor) with Harbor's own oracle agent and verifier. Offline: the example tasks' images
(ubuntu, python:3.11-slim) resolve to tmax's local base, and the uvx/pytest verifiers run on the
offline verifier layer."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import EXAMPLES
from tests.tmax_harbor.harbor_cli import failure, harbor_run, reward

# Harbor runs Harbor-layout tasks only; the Terminal-Bench 1 example (task.yaml) is tmax's own
# reader's business (Harbor's `harbor task migrate` needs a docker-compose.yaml it lacks).
HARBOR_EXAMPLES = sorted(p.name for p in EXAMPLES.iterdir() if (p / "task.toml").is_file())


def test_oracle_scores_1_on_every_example_task_in_bwrap(harbor, rootfs, tmp_path):
    assert len(HARBOR_EXAMPLES) >= 5
    trials = harbor_run(harbor, tmp_path / "jobs", "oracle-bwrap", "-p", str(EXAMPLES), "-x", "tb1-hello",
                        "-a", "oracle", "-e", "tmax.harbor:Bwrap", "-n", "2")
    assert sorted(trials) == HARBOR_EXAMPLES
    for name, trial in trials.items():
        assert not failure(trial), f"{name}: {failure(trial)}"
        assert reward(trial) == 1.0, name
        assert trial["config"]["environment"]["import_path"] == "tmax.harbor:Bwrap"
    # the uvx-driven verifier ran pytest from the offline layer (no network in the sandbox)
    stdout = next((tmp_path / "jobs" / "oracle-bwrap").glob("harbor-uvx-pytest__*/verifier/test-stdout.txt"))
    assert "passed" in stdout.read_text()


@pytest.mark.slow
def test_oracle_scores_1_on_every_example_task_in_podman(harbor, podman_image, tmp_path):
    trials = harbor_run(harbor, tmp_path / "jobs", "oracle-podman", "-p", str(EXAMPLES), "-x", "tb1-hello",
                        "-a", "oracle", "-e", "tmax.harbor:Podman", "-n", "2")
    assert sorted(trials) == HARBOR_EXAMPLES
    assert {name: (reward(t), failure(t)) for name, t in trials.items()} == {n: (1.0, "") for n in HARBOR_EXAMPLES}


def _task(root: Path, solve: str, test: str, toml: str = "", dockerfile: str = "FROM ubuntu:24.04\nWORKDIR /app\n",
          files: dict[str, str] | None = None) -> Path:
    (root / "environment").mkdir(parents=True)
    (root / "environment" / "Dockerfile").write_text(dockerfile)
    for name, text in (files or {}).items():
        (root / "environment" / name).write_text(text)
    (root / "task.toml").write_text('version = "1.0"\n[environment]\nallow_internet = false\n' + toml)
    (root / "instruction.md").write_text("Do the thing.\n")
    for name, text in (("solution/solve.sh", solve), ("tests/test.sh", test)):
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).write_text("#!/bin/bash\n" + text)
    return root


def test_agent_processes_are_ended_before_the_tests_land(harbor, rootfs, tmp_path):
    """A process the agent left running could rewrite the reward; tmax's environment ends them
    all when Harbor uploads tests/, so the verifier finds none (Harbor's docker would keep it).
    A link the agent made in /logs does not reach the host's trial dir."""
    task = _task(tmp_path / "tasks" / "leftover", solve="nohup sleep 1000 >/dev/null 2>&1 &\necho $! > /app/pid\n"
                                                     "ln -s /etc/passwd /logs/agent/link\n",
                 test="mkdir -p /logs/verifier\n"
                      "if kill -0 $(cat /app/pid) 2>/dev/null; then echo 0; else echo 1; fi > /logs/verifier/reward.txt\n")
    trials = harbor_run(harbor, tmp_path / "jobs", "leftover", "-p", str(task), "-a", "oracle",
                        "-e", "tmax.harbor:Bwrap")
    assert not failure(trials["leftover"]), failure(trials["leftover"])
    assert reward(trials["leftover"]) == 1.0
    agent_dir = next((tmp_path / "jobs" / "leftover").glob("leftover__*/agent"))
    assert (agent_dir / "oracle.txt").is_file() and not (agent_dir / "link").is_symlink()  # links stay behind


def test_no_network_and_a_failing_solution_score_0_not_an_error(harbor, rootfs, tmp_path):
    """allow_internet = false is Harbor's no-network policy: the sandbox has loopback only. A
    wrong answer is reward 0 with no exception."""
    task = _task(tmp_path / "tasks" / "offline", solve="ip -o link show | awk -F': ' '{print $2}' > /app/links\n",
                 test="mkdir -p /logs/verifier\n"
                      "if [ \"$(cat /app/links)\" = lo ]; then echo 0; else echo 1; fi > /logs/verifier/reward.txt\n")
    trials = harbor_run(harbor, tmp_path / "jobs", "offline", "-p", str(task), "-a", "oracle",
                        "-e", "tmax.harbor:Bwrap")
    assert not failure(trials["offline"]), failure(trials["offline"])
    assert reward(trials["offline"]) == 0.0  # only `lo` is there, which this verifier calls a failure


def test_a_compose_task_is_refused_with_the_reason(harbor, rootfs, tmp_path):
    task = tmp_path / "tasks" / "compose"
    (task / "environment").mkdir(parents=True)
    (task / "environment" / "docker-compose.yaml").write_text("services:\n  main:\n    image: ubuntu:24.04\n")
    (task / "task.toml").write_text('version = "1.0"\n')
    (task / "instruction.md").write_text("x\n")
    (task / "tests").mkdir()
    (task / "tests" / "test.sh").write_text("echo 1 > /logs/verifier/reward.txt\n")
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    from tests.tmax_harbor.harbor_cli import harbor as harbor_cli

    done = harbor_cli(harbor, "run", "-o", str(jobs), "--job-name", "compose", "-y", "-q", "-p", str(task),
                      "-a", "oracle", "-e", "tmax.harbor:Bwrap", cwd=tmp_path)
    results = list((jobs / "compose").glob("*/result.json"))
    text = done.stdout + done.stderr + "".join(p.read_text() for p in results)
    assert "docker-compose environments are not supported" in text


def test_the_image_entrypoint_runs_and_its_service_is_up_for_the_tests(harbor, rootfs, tmp_path):
    """As under Harbor's docker, the ENTRYPOINT runs (with `sleep infinity`); its service is
    started afresh for the tests, after the agent's processes are ended (the solution kills it)."""
    start = "#!/bin/bash\nmkdir -p /tmp/srv && echo up > /tmp/srv/ok.txt\n" \
            "python3 -m http.server 8123 -d /tmp/srv >/dev/null 2>&1 &\nexec \"$@\"\n"
    dockerfile = ("FROM python:3.11-slim\nCOPY start.sh /start.sh\nRUN chmod +x /start.sh\n"
                  "ENTRYPOINT [\"/start.sh\"]\nWORKDIR /app\n")
    fetch = ("for i in $(seq 100); do python3 -c \"import urllib.request as u; print(u.urlopen("
             "'http://127.0.0.1:8123/ok.txt', timeout=1).read().decode().strip())\" 2>/dev/null && break; "
             "sleep 0.1; done")
    task = _task(tmp_path / "tasks" / "service", dockerfile=dockerfile, files={"start.sh": start},
                 solve=f"{fetch} > /app/seen\npkill -f http.server\n",
                 test=f"mkdir -p /logs/verifier\nlive=$({fetch})\n"
                      "if [ \"$live\" = up ] && [ \"$(cat /app/seen)\" = up ]; then echo 1; else echo 0; fi"
                      " > /logs/verifier/reward.txt\n")
    trials = harbor_run(harbor, tmp_path / "jobs", "service", "-p", str(task), "-a", "oracle",
                        "-e", "tmax.harbor:Bwrap")
    assert not failure(trials["service"]), failure(trials["service"])
    assert reward(trials["service"]) == 1.0
