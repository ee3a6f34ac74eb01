"""What tmax writes, read by the real `harbor` package (0.25, in .venv-harbor): every job and trial
of `tmax run`, `tmax eval` (a model-free agent and the tiny model) and RL rollouts validates with
Harbor's JobConfig / JobResult / TrialConfig / TrialResult / Trajectory, `harbor view`'s app
lists the jobs and trials with tmax's rewards, and the task checksum is Harbor's."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tests.conftest import EXAMPLES
from tests.tasks.test_task import make_task
from tests.harbor_support import harbor_check, invalid
from tmax.engines.chat import TokenRecord
from tmax.harness.atif import record_from_rollout_details
from tmax.trial.harbor_result import task_checksum

TASK = EXAMPLES / "log-grep"


def _check_trials(answer: dict, jobs) -> dict:
    """Each trial as `harbor view` lists it (by job and name), checked against tmax's result.json."""
    view = answer["viewer"]
    trials = {(job, t["name"]): t for job, ts in view["trials"].items() for t in ts}
    for (job, name), trial in trials.items():
        result = json.loads((jobs / job / name / "result.json").read_text())
        assert trial["reward"] == result["reward"] and trial["agent_name"] == result["agent_info"]["name"]
        assert result["task_checksum"] == answer["checksums"][str(result["task_path"])]
        if (jobs / job / name / "agent" / "trajectory.json").exists():
            assert view["trajectories"][f"{job}/{name}"]["trajectory_steps"] >= 4  # system, task, replies
    return trials


def test_run_and_eval_jobs_validate_and_show_in_harbor_view(rootfs, tmp_path, harbor):
    from tmax.cli import app
    from tmax.eval.job import EvalConfig, run_eval

    jobs = tmp_path / "jobs"
    ran = CliRunner().invoke(app, ["run", str(TASK), "--agent", "scripted", "--sandbox", "bwrap",
                                   "--jobs-dir", str(jobs), "--job-name", "run"])
    assert ran.exit_code == 0, ran.output
    run_eval(EvalConfig(tasks=[str(TASK)], agent="stepwise", sandbox="bwrap", runs=2, jobs_dir=str(jobs),
                        job_name="stepwise"))

    # an infrastructure error (no solution for the oracle), a failure the agent can cause (no
    # reward file), and a task whose tests/.harborignore leaves a file out of Harbor's checksum
    tasks = tmp_path / "tasks"
    unsolvable = make_task(tasks / "no-solution", solve=None)
    silent = make_task(tasks / "silent", test="echo no reward\n")
    ignoring = make_task(tasks / "ignoring")
    (ignoring / "tests" / ".harborignore").write_text("scratch/\n")
    (ignoring / "tests" / "scratch").mkdir()
    (ignoring / "tests" / "scratch" / "notes.txt").write_text("left out\n")
    run_eval(EvalConfig(tasks=[str(unsolvable), str(silent), str(ignoring)], agent="oracle", sandbox="bwrap",
                        jobs_dir=str(jobs), job_name="mixed"))

    answer = harbor_check(harbor, jobs, [TASK, unsolvable, silent, ignoring])
    assert invalid(answer) == {}
    kinds = sorted(entry["kind"] for entry in answer["files"].values())
    assert kinds.count("job config") == kinds.count("job result") == 3
    assert kinds.count("trial config") == kinds.count("trial result") == 6 and kinds.count("trajectory") == 3

    view = answer["viewer"]
    assert {j["name"]: (j["n_total_trials"], j["n_completed_trials"], j["n_errored_trials"]) for j in view["jobs"]} == {
        "run": (1, 1, 0), "stepwise": (2, 2, 0), "mixed": (3, 3, 1)}
    trials = _check_trials(answer, jobs)
    assert {t["reward"] for (job, _), t in trials.items() if job != "mixed"} == {1.0}
    assert (trials["mixed", "no-solution__r0"]["error_type"], trials["mixed", "no-solution__r0"]["reward"]) == (
        "TaskError", None)
    assert trials["mixed", "silent__r0"]["reward"] == 0.0 and trials["mixed", "ignoring__r0"]["reward"] == 1.0
    # the ignored dir is out of the checksum (as in Harbor's, which matched above), the rest is in
    (ignoring / "tests" / "scratch" / "more.txt").write_text("still left out\n")
    assert task_checksum(ignoring) == answer["checksums"][str(ignoring)]
    (ignoring / "tests" / "test.sh").write_text("echo 0 > /logs/verifier/reward.txt\n")
    assert task_checksum(ignoring) != answer["checksums"][str(ignoring)]


def test_model_jobs_and_rl_rollouts_carry_token_records(rootfs, tiny_model_dir, tmp_path, harbor):
    """An eval of the tiny model and RL rollouts (a Harbor job dir of its own): the exact token
    record is tokens.json, the same stream is in result.json's rollout_details and, reply by
    reply, in the ATIF step metrics."""
    from tmax.engines import EngineConfig
    from tmax.engines.batching import Batcher
    from tmax.engines.chat import ChatRenderer
    from tmax.engines.base import SamplingParams
    from tmax.engines.hf import HFEngine, load_model
    from tmax.engines.token_policy import TokenPolicy
    from tmax.eval.job import EvalConfig, run_eval
    from tmax.harness.loop import HarnessConfig
    from tmax.rl.rollouts import LocalGroups
    from tmax.tasks import load_task

    model, tokenizer = load_model(tiny_model_dir, dtype="float32")
    batcher, renderer = Batcher(HFEngine(model, tokenizer)), ChatRenderer(tokenizer)
    runner = LocalGroups(lambda: TokenPolicy(batcher, renderer, SamplingParams(temperature=1.0, max_tokens=8),
                                             max_context_tokens=2048),
                         tmp_path / "run", group_size=2, concurrency=2,
                         harness=HarnessConfig(max_tool_calls=2, max_format_errors=2))
    try:
        group = runner.run_group(load_task(TASK), 0, 0)
    finally:
        runner.close()
    assert len(group.records) == 2
    engine = EngineConfig(model=str(tiny_model_dir), sampling=SamplingParams(max_tokens=12, seed=0))
    run_eval(EvalConfig(tasks=[str(TASK)], agent="hf", sandbox="bwrap", jobs_dir=str(tmp_path / "run"),
                        job_name="hf", engine=engine))

    answer = harbor_check(harbor, tmp_path / "run", [TASK])
    assert invalid(answer) == {}
    jobs = {j["name"]: j for j in answer["viewer"]["jobs"]}
    assert {name: j["n_completed_trials"] for name, j in jobs.items()} == {"rollouts": 2, "hf": 1}
    assert jobs["hf"]["models"] == [tiny_model_dir.name]
    trials = _check_trials(answer, tmp_path / "run")
    hf = trials["hf", "log-grep__r0"]
    assert (hf["model_name"], hf["model_provider"], hf["reward"]) == (tiny_model_dir.name, "hf", 0.0)
    for trial in [*sorted((tmp_path / "run" / "rollouts").glob("*__t0g*")), tmp_path / "run" / "hf" / "log-grep__r0"]:
        result = json.loads((trial / "result.json").read_text())
        tokens = json.loads((trial / "agent" / "tokens.json").read_text())
        record = TokenRecord.from_dict(tokens)
        assert record.ids and sum(record.mask) == result["agent_result"]["n_output_tokens"]
        assert record_from_rollout_details(result["agent_result"]["rollout_details"][0]) == record.to_dict()
        replies = [s for s in json.loads((trial / "agent" / "trajectory.json").read_text())["steps"]
                   if s["source"] == "agent"]
        assert len(replies) == len(record.turns)
        for step, (start, end) in zip(replies, record.turns):
            assert step["metrics"]["completion_token_ids"] == record.ids[start:end]
            assert step["metrics"]["logprobs"] == record.logprobs[start:end]
