"""Harbor's current task format end to end on bwrap: multi-step tasks (rewards as Harbor computes
them, min_reward gating, sessions), a separate verifier built from tests/Dockerfile, the
isolated-verifier option, multi-dimensional rewards. Exact rewards from real sandboxes."""

from __future__ import annotations

import json

import pytest

from tests.conftest import FIXTURES
from tests.tasks.test_task import make_task
from tmax.tasks import load_task
from tmax.trial import run_trial

pytestmark = pytest.mark.podman  # bwrap trials build their image with podman

HARBOR_TASKS = FIXTURES / "harbor-tasks"


def trial(tmp_path, task, agent="oracle", **kwargs):
    task = load_task(task) if not hasattr(task, "config") else task
    summary = run_trial(task, tmp_path / "job", agent=agent, backend="bwrap", **kwargs)
    result = json.loads((summary.trial_dir / "result.json").read_text())
    assert summary.error is None, result["exception_info"]
    return summary, result


def test_three_steps_oracle_scores_one_each_step_in_its_own_dir(tmp_path, rootfs):
    summary, result = trial(tmp_path, HARBOR_TASKS / "three-steps")
    assert summary.trial_dir.name.startswith("three-steps__")  # [task].name without its org
    assert result["task_name"] == "tmax-fixtures/three-steps"
    assert [(s["step_name"], s["reward"]) for s in result["step_results"]] == [
        ("1_create", 1.0), ("2_extend", 1.0), ("3_count", 1.0)]
    assert summary.reward == 1.0 and result["verifier_result"]["rewards"] == {"reward": 1.0}
    for step in ("1_create", "2_extend", "3_count"):
        assert (summary.trial_dir / "steps" / step / "verifier" / "reward.txt").read_text().strip() == "1"
        assert (summary.trial_dir / "steps" / step / "agent" / "oracle.txt").exists()


def test_a_failing_first_step_under_min_reward_stops_the_trial(tmp_path, rootfs):
    summary, result = trial(tmp_path, HARBOR_TASKS / "three-steps", agent="noop")
    assert summary.reward == 0.0 and [s["step_name"] for s in result["step_results"]] == ["1_create"]
    assert "below min_reward 1.0" in result["step_results"][0]["stopped_trial"]
    assert not (summary.trial_dir / "steps" / "2_extend").exists()


def test_gated_step_keeps_harbors_mean_over_the_steps_that_ran(tmp_path, rootfs):
    summary, result = trial(tmp_path, HARBOR_TASKS / "gated")
    # step 1 earns 0.5 < min_reward 1.0: step 2 never runs; the mean is over step 1 alone
    assert [(s["step_name"], s["reward"]) for s in result["step_results"]] == [("first", 0.5)]
    assert result["verifier_result"]["rewards"] == {"reward": 0.5, "style": 1.0}
    assert summary.reward == 0.5
    assert any("1 step(s) not run" in w for w in result["verifier_result"]["warnings"])


def test_inherit_prior_session_continues_the_conversation_or_starts_a_fresh_one(tmp_path, rootfs):
    summary, result = trial(tmp_path, HARBOR_TASKS / "three-steps", agent="scripted")
    assert summary.reward == 1.0

    def users(step):
        steps = json.loads((summary.trial_dir / "steps" / step / "agent" / "trajectory.json").read_text())["steps"]
        return [m["message"] for m in steps if m["source"] == "user"], [m for m in steps if m["source"] == "system"]

    first, _ = users("1_create")
    second, systems = users("2_extend")  # inherit_prior_session = true: step 1's turns, then its own
    assert len(systems) == 1 and second[0] == first[0] and "Append the line `two`" in second[-1]
    third, _ = users("3_count")  # false: a fresh conversation with only its own instruction
    assert len(third) == 1 and "number of lines" in third[0] and "notes.txt holding" not in third[0]
    assert "harbor-canary" not in "".join(first + second + third)  # canary lines never reach the agent


def test_separate_verifier_runs_its_own_image_over_the_workspace_only(tmp_path, rootfs):
    summary, result = trial(tmp_path, HARBOR_TASKS / "separate-verifier")
    # the tests check: the verifier image's marker, /app/out/sum.txt, no scratch file, no planted program
    assert summary.reward == 1.0, (summary.trial_dir / "verifier" / "test-stdout.txt").read_text()
    assert result["environment"]["verifier_environments"] == {"task": "tests/Dockerfile"}
    warnings = result["verifier_result"]["warnings"]
    assert any("left out 1 special file(s) or outside link(s)" in w and "shadow-link" in w for w in warnings)
    noop, _ = trial(tmp_path, HARBOR_TASKS / "separate-verifier", agent="noop")
    assert noop.reward == 0.0


ISOLATION_TEST = ('if [ -f /app/done ] && [ ! -e /tmp/agent-scratch ]; then echo 1; else echo 0; fi'
                  ' > /logs/verifier/reward.txt\n')


def test_isolated_verifier_option_verifies_any_task_in_a_fresh_sandbox(tmp_path, rootfs):
    task = load_task(make_task(tmp_path / "tasks" / "t", dockerfile="FROM debian:bookworm\nWORKDIR /app\n",
                               test=ISOLATION_TEST, solve="touch /app/done /tmp/agent-scratch\n"))
    shared, _ = trial(tmp_path, task)
    assert shared.reward == 0.0  # the shared verifier sees the agent's /tmp
    isolated, result = trial(tmp_path, task, isolated_verifier=True)
    assert isolated.reward == 1.0 and result["isolated_verifier"] is True
    assert result["environment"]["verifier_environments"] == {
        "task": "environment/ (a fresh sandbox of the agent's image)"}


def test_multi_dimensional_reward_records_every_key(tmp_path, rootfs):
    summary, result = trial(tmp_path, HARBOR_TASKS / "multi-dim")
    assert result["verifier_result"]["rewards"] == {"correctness": 1.0, "brevity": 0.5}
    assert summary.reward == 0.75  # no `reward` key: the mean of the keys
    assert result["environment"]["network"]["agent"] == {
        "harbor_mode": "public", "from": "Harbor's default (tmax runs offline unless a task asks)", "network": False}


def test_a_failing_step_setup_after_an_agent_acted_scores_zero_and_stops(tmp_path, rootfs):
    import shutil

    task_dir = shutil.copytree(HARBOR_TASKS / "three-steps", tmp_path / "tasks" / "three-steps")
    (task_dir / "steps" / "3_count" / "workdir" / "setup.sh").write_text("exit 7\n")
    summary, result = trial(tmp_path, task_dir)
    last = result["step_results"][-1]
    assert last["step_name"] == "3_count" and last["agent_failure"]["phase"] == "setup"
    assert "exited with 7" in last["stopped_trial"]
    assert summary.reward == pytest.approx(2 / 3)  # 1, 1 and a 0 that counts: no skipping a step


def test_isolated_verifier_option_works_for_terminal_bench_1_tasks(tmp_path, rootfs):
    from tests.conftest import EXAMPLES

    summary, result = trial(tmp_path, EXAMPLES / "tb1-hello", isolated_verifier=True)
    assert summary.reward == 1.0 and result["environment"]["verifier_environments"] == {
        "task": "Dockerfile (a fresh sandbox)"}


WORKSPACE_ATTACK = (
    "mkfifo /app/fifo; ln -s /etc/shadow /app/abs-link; ln -s ../logs/verifier/reward.txt /app/rel-link\n"
    "mkdir -p /logs/verifier; echo 1 > /logs/verifier/reward.txt\n"
    "nohup setsid bash -c 'while :; do echo 1 > /logs/verifier/reward.txt 2>/dev/null; done' >/dev/null 2>&1 &\n"
    "sleep 0.2\n")


def test_workspace_attacks_score_zero_under_the_isolated_verifier(tmp_path, rootfs):
    """A fifo (which would block a copy), links out of the workspace (to a host-looking file, to
    the verifier's reward) and a planted, still-written reward: the fresh sandbox sees none."""
    task = load_task(make_task(tmp_path / "tasks" / "attack", dockerfile="FROM debian:bookworm\nWORKDIR /app\n",
                               test="sleep 0.5\necho 0 > /logs/verifier/reward.txt\n", solve=WORKSPACE_ATTACK))
    summary, result = trial(tmp_path, task, isolated_verifier=True)
    assert summary.reward == 0.0 and "agent_failure" not in result
    # the fifo is never copied; both links leave /app (one into the verifier's logs) and are refused
    assert any("left out 2 special file(s) or outside link(s)" in w for w in result["verifier_result"]["warnings"])
