"""`tmax eval` jobs end to end in real bwrap sandboxes: task resolution, runs, resume, model agents."""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import EXAMPLES
from tmax.errors import ConfigError
from tmax.eval.job import EvalConfig, run_eval
from tmax.tasks import resolve_task_dirs
from tmax.eval.report import load_job, summarize

TWO = [str(EXAMPLES / "csv-summary"), str(EXAMPLES / "log-grep")]


def test_tasks_resolve_from_dirs_globs_and_dataset_files(tmp_path):
    everything = resolve_task_dirs([str(EXAMPLES)])
    assert [p.name for p in everything][:2] == ["csv-summary", "fix-the-bug"] and len(everything) == 6
    assert [p.name for p in resolve_task_dirs([str(EXAMPLES / "*-pytest")])] == ["harbor-uvx-pytest", "python-slim-pytest"]
    listing = tmp_path / "set.txt"
    listing.write_text(f"# two tasks\n{EXAMPLES / 'log-grep'}\n{os.path.relpath(EXAMPLES / 'tb1-hello', tmp_path)}\n")
    (tmp_path / "set.json").write_text(json.dumps([str(EXAMPLES / "log-grep")]))
    found = resolve_task_dirs([str(listing), str(tmp_path / "set.json")])
    assert [p.name for p in found] == ["log-grep", "tb1-hello"]  # once each
    with pytest.raises(ConfigError, match="no task dirs match"):
        resolve_task_dirs([str(tmp_path / "nothing-*")])


def test_runs_resume_and_retry_errored_trials(rootfs, tmp_path):
    cfg = EvalConfig(tasks=TWO, agent="oracle", sandbox="bwrap", runs=2, concurrency=2, jobs_dir=str(tmp_path),
                     job_name="j")
    job_dir = run_eval(cfg)
    names = sorted(p.parent.name for p in job_dir.glob("*/result.json"))
    assert names == ["csv-summary__r0", "csv-summary__r1", "log-grep__r0", "log-grep__r1"]
    job = json.loads((job_dir / "job.json").read_text())
    assert job["runs"] == 2 and job["config"]["sandbox"] == "bwrap" and job["finished_at"]
    first = json.loads((job_dir / "log-grep__r1" / "result.json").read_text())
    assert first["run"] == 1 and first["reward"] == 1.0

    # an errored trial is run again on resume; finished ones are left alone
    broken = job_dir / "csv-summary__r0" / "result.json"
    result = json.loads(broken.read_text())
    result.update(reward=None, exception_info={"exception_type": "SandboxError", "exception_message": "x"})
    broken.write_text(json.dumps(result))
    untouched = (job_dir / "log-grep__r0" / "result.json").stat().st_mtime_ns
    done = []
    run_eval(cfg, on_trial=lambda summary, n, total: done.append(summary.trial_dir.name))
    assert done == ["csv-summary__r0"]
    assert (job_dir / "log-grep__r0" / "result.json").stat().st_mtime_ns == untouched
    assert json.loads((job_dir / "job.json").read_text())["n_skipped"] == 3
    [summary] = summarize([load_job(job_dir)])
    assert summary.run_scores == [1.0, 1.0] and summary.errors == []
    assert json.loads((job_dir / "job.json").read_text())["metrics"] == summary.to_dict()  # run_eval wrote them

    with pytest.raises(ConfigError, match="holds a job of agent 'oracle'"):
        run_eval(cfg.model_copy(update={"agent": "noop"}))


def test_hf_model_agent_writes_token_records(rootfs, tmp_path, tiny_model_dir):
    from tmax.engines import EngineConfig, SamplingParams

    engine = EngineConfig(model=str(tiny_model_dir), sampling=SamplingParams(max_tokens=12, seed=0))
    cfg = EvalConfig(tasks=TWO[:1], agent="hf", sandbox="bwrap", jobs_dir=str(tmp_path), job_name="m", engine=engine)
    job_dir = run_eval(cfg)
    trial = job_dir / "csv-summary__r0"
    result = json.loads((trial / "result.json").read_text())
    assert result["exception_info"] is None and result["reward"] == 0.0  # an untrained model fails, cleanly
    assert result["agent_info"]["model_info"] == {"name": tiny_model_dir.name, "provider": "hf"}
    usage = json.loads((trial / "agent" / "trajectory.json").read_text())["extra"]["tmax"]["usage"]
    tokens = json.loads((trial / "agent" / "tokens.json").read_text())
    assert len(tokens["ids"]) == len(tokens["mask"]) == len(tokens["logprobs"]) == usage["context_tokens"]
    assert sum(tokens["mask"]) == result["agent_result"]["n_output_tokens"] == usage["completion_tokens"]
    assert all(lp < 0 for lp, m in zip(tokens["logprobs"], tokens["mask"]) if m)



def test_cli_keeps_the_config_files_agent_unless_the_option_is_given(rootfs, tmp_path):
    from typer.testing import CliRunner

    from tmax.cli import app

    config = tmp_path / "eval.toml"
    config.write_text(f'agent = "stepwise"\nsandbox = "bwrap"\njobs_dir = "{tmp_path}"\n')
    result = CliRunner().invoke(app, ["eval", str(EXAMPLES / "log-grep"), "--config", str(config), "--job-name", "a"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "a" / "log-grep__r0" / "result.json").read_text())["config"]["agent"]["name"] == "stepwise"
    result = CliRunner().invoke(app, ["eval", str(EXAMPLES / "log-grep"), "--config", str(config), "--job-name", "b",
                                      "--agent", "oracle"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "b" / "log-grep__r0" / "result.json").read_text())["config"]["agent"]["name"] == "oracle"


def test_different_tasks_with_one_name_get_their_own_trial_dirs(rootfs, tmp_path):
    """Two task dirs called `same` (one solvable by its oracle, one not): neither overwrites
    the other's trial, and a resume finds both."""
    from tests.tasks.test_task import make_task

    good = make_task(tmp_path / "a" / "same", test="[ -f /tmp/ok ] && echo 1 > /logs/verifier/reward.txt || "
                     "echo 0 > /logs/verifier/reward.txt\n", solve="touch /tmp/ok\n")
    bad = make_task(tmp_path / "b" / "same", test="echo 0 > /logs/verifier/reward.txt\n")
    cfg = EvalConfig(tasks=[str(good), str(bad)], agent="oracle", sandbox="bwrap", jobs_dir=str(tmp_path / "jobs"),
                     job_name="j")
    job_dir = run_eval(cfg)
    rewards = sorted(json.loads(p.read_text())["reward"] for p in job_dir.glob("*/result.json"))
    assert rewards == [0.0, 1.0]
    done = []
    run_eval(cfg, on_trial=lambda summary, n, total: done.append(summary))
    assert done == []  # both found on resume


def test_a_job_dir_of_tmax_before_harbors_format_is_refused_with_the_way_out(tmp_path):
    """Resuming needs Harbor's config.json; `tmax report` still reads the old dir."""
    import shutil

    from tests.conftest import FIXTURES

    old = tmp_path / "old"
    shutil.copytree(FIXTURES / "jobs" / "tmax-qwen3.5-0.8b", old)
    cfg = EvalConfig(tasks=TWO, agent="oracle", sandbox="bwrap", jobs_dir=str(tmp_path), job_name="old")
    with pytest.raises(ConfigError, match="older tmax") as raised:
        run_eval(cfg)
    assert "start a new job name" in str(raised.value) and "tmax report" in str(raised.value)
    assert not (old / "config.json").exists()
    [summary] = summarize([load_job(old)])
    assert summary.label == "Qwen/Qwen3.5-0.8B" and len(summary.run_scores) == 2
