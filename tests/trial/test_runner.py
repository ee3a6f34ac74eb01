"""Trials end to end on podman: rewards, infra errors kept apart from failures the agent can
cause (scored 0 with the reason), trial dirs."""

from __future__ import annotations

import json

import pytest

from tests.conftest import EXAMPLES
from tests.tasks.test_task import make_task
from tmax.trial import run_trial
from tmax.tasks import load_task

pytestmark = pytest.mark.podman  # bwrap trials build their image with podman too

PASS_IF_FILE = 'if [ -f /app/done ]; then echo 1 > /logs/verifier/reward.txt; else echo 0 > /logs/verifier/reward.txt; fi\n'
DOCKERFILE = "FROM ubuntu:24.04\nWORKDIR /app\n"


def trial(tmp_path, name, agent="oracle", **kwargs):
    kwargs.setdefault("dockerfile", DOCKERFILE)
    task = load_task(make_task(tmp_path / "tasks" / name, **kwargs))
    summary = run_trial(task, tmp_path / "job", agent=agent, backend="podman")
    return summary, json.loads((summary.trial_dir / "result.json").read_text())


def test_oracle_scores_one_noop_scores_zero_with_harbor_trial_dir(tmp_path, podman_image):
    oracle, result = trial(tmp_path, "t", test=PASS_IF_FILE, solve="touch /app/done\n")
    assert oracle.reward == 1.0 and oracle.error is None
    assert result["verifier_result"]["rewards"] == {"reward": 1.0}
    assert result["environment"]["image_substitutions"] == [{"from": "ubuntu:24.04", "to": podman_image}]
    assert (oracle.trial_dir / "verifier" / "reward.txt").read_text().strip() == "1"
    assert (oracle.trial_dir / "verifier" / "test-stdout.txt").exists()
    assert (oracle.trial_dir / "agent" / "oracle.txt").exists()
    noop, _ = trial(tmp_path, "t", agent="noop", test=PASS_IF_FILE, solve="touch /app/done\n")
    assert noop.reward == 0.0 and noop.error is None


def test_missing_reward_file_scores_zero_with_the_reason(tmp_path, podman_image):
    """After an agent ran, a verifier that writes no reward is a failure the agent can cause:
    never cheaper than a 0, and the reason is kept."""
    summary, result = trial(tmp_path, "silent", test="echo tests ran\n")
    assert summary.reward == 0.0 and summary.error is None and result["exception_info"] is None
    assert result["agent_failure"]["type"] == "VerifierError" and result["agent_failure"]["phase"] == "verifier"
    assert "no /logs/verifier/reward.txt" in result["agent_failure"]["message"]
    assert result["verifier_result"]["source"] == "agent-caused failure"


def test_verifier_timeout_scores_zero_with_the_reason(tmp_path, podman_image):
    summary, result = trial(tmp_path, "slow", toml='version = "1.0"\n[verifier]\ntimeout_sec = 1\n',
                            test="sleep 30; echo 1 > /logs/verifier/reward.txt\n")
    assert summary.reward == 0.0 and "timed out" in result["agent_failure"]["message"]


def test_out_of_range_reward_is_clamped_with_a_warning(tmp_path, podman_image):
    summary, result = trial(tmp_path, "seven", test="echo 7 > /logs/verifier/reward.txt\n")
    assert summary.reward == 1.0
    assert any("outside [0, 1]" in w for w in result["verifier_result"]["warnings"])


def test_build_failure_is_an_error_with_the_log(tmp_path, podman_image):
    task = load_task(make_task(tmp_path / "tasks" / "broken", dockerfile="FROM ubuntu:24.04\nRUN exit 3\n"))
    summary = run_trial(task, tmp_path / "job", agent="oracle")
    result = json.loads((summary.trial_dir / "result.json").read_text())
    assert result["exception_info"]["exception_type"] == "BuildError"
    assert (summary.trial_dir / "environment" / "build.log").read_text()


def test_agent_cannot_plant_its_own_reward(tmp_path, podman_image):
    summary, _ = trial(tmp_path, "cheat", test=PASS_IF_FILE,
                       solve="mkdir -p /logs/verifier; echo 1 > /logs/verifier/reward.txt\n")
    assert summary.reward == 0.0


def test_graded_reward_json_and_tb1_exit_code(tmp_path, podman_image):
    graded, result = trial(tmp_path, "graded", solve="touch /app/a\n",
                           test='n=0; [ -f /app/a ] && n=$((n+1)); [ -f /app/b ] && n=$((n+1))\n'
                                'echo "{\\"reward\\": $(python3 -c "print($n/2)"), \\"passed\\": $n}" > /logs/verifier/reward.json\n')
    assert graded.reward == 0.5 and result["verifier_result"]["rewards"] == {"reward": 0.5, "passed": 1.0}


@pytest.mark.parametrize("backend", ["podman", "bwrap"])
@pytest.mark.parametrize("agent,expected", [("oracle", 1.0), ("noop", 0.0)])
def test_every_example_task(request, tmp_path, podman_image, backend, agent, expected):
    """The Foundation's bar: oracle scores 1 and noop 0 on every example, on both backends."""
    if backend == "bwrap":
        request.getfixturevalue("rootfs")
    for path in sorted(p for p in EXAMPLES.iterdir() if p.is_dir()):
        summary = run_trial(load_task(path), tmp_path, agent=agent, backend=backend)
        assert summary.error is None, (path.name, summary.error)
        assert summary.reward == expected, path.name


def test_scripted_agent_solves_every_example_through_the_harness(tmp_path, podman_image):
    """The reference solution sent as tool calls through prompts, parser and persistent shell."""
    for path in sorted(p for p in EXAMPLES.iterdir() if p.is_dir()):
        summary = run_trial(load_task(path), tmp_path, agent="scripted", backend="podman")
        assert summary.error is None and summary.reward == 1.0, (path.name, summary.error)
        trajectory = json.loads((summary.trial_dir / "agent" / "trajectory.json").read_text())
        assert trajectory["extra"]["tmax"]["exit_reason"] == "submitted" and trajectory["extra"]["tmax"]["n_tool_calls"] == 1


def _tb1_task(root, parser: str | None = None):
    """A Terminal-Bench 1 task as written outside tmax: its tests pip-install pytest (offline,
    that must be served by the verifier layer) and are scored by the pytest parser."""
    (root / "tests").mkdir(parents=True)
    (root / "task.yaml").write_text("instruction: Write ok into /app/out.txt\n"
                                    + (f"parser_name: {parser}\n" if parser else ""))
    (root / "Dockerfile").write_text("FROM python:3.11-slim\nWORKDIR /app\n")
    (root / "run-tests.sh").write_text("#!/bin/bash\npip install pytest==8.4.1 || true\n"
                                       "python3 -m pytest $TEST_DIR/test_outputs.py -rA\n")
    (root / "tests" / "test_outputs.py").write_text(
        "from pathlib import Path\n\n\ndef test_exists():\n    assert Path('/app/out.txt').exists()\n\n\n"
        "def test_content():\n    assert Path('/app/out.txt').read_text().strip() == 'ok'\n")
    (root / "solution.sh").write_text("echo ok > /app/out.txt\n")
    return load_task(root)


@pytest.mark.parametrize("backend", ["podman", "bwrap"])
def test_third_party_tb1_task_installs_pytest_offline_and_is_scored_by_its_parser(request, tmp_path, podman_image,
                                                                                backend):
    if backend == "bwrap":
        request.getfixturevalue("rootfs")
    task = _tb1_task(tmp_path / "tb1")
    oracle = run_trial(task, tmp_path / "job", agent="oracle", backend=backend)
    result = json.loads((oracle.trial_dir / "result.json").read_text())
    assert oracle.reward == 1.0 and result["verifier_result"]["source"] == "pytest summary", oracle.error
    assert "served from the verifier layer" in (oracle.trial_dir / "verifier" / "test-stdout.txt").read_text()
    half = run_trial(task, tmp_path / "job", agent="noop", backend=backend)
    assert half.reward == 0.0 and half.error is None
