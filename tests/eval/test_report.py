"""`tmax report` against fixture job dirs, every number computed by hand.

Fixtures (tests/fixtures/jobs/):

- ``2025-11-03__14-05-12``: a Harbor job (terminus-2, ``hosted_vllm/Qwen3.5-9B``, n_attempts 3).
  By started_at, csv-summary scores 1, 0, 1 and log-grep 1, error (RewardFileNotFoundError, no
  reward), 0. Turns (ATIF tool calls) 3 5 4 / 2 6 7; tokens in 3000 5000 4000 / 2000 6000 7000,
  out a tenth of that; the errored trial's tokens come only from its ATIF final_metrics.
- ``tmax-qwen3.5-0.8b``: a tmax job, model ``Qwen/Qwen3.5-0.8B``, 2 runs. Run 0: csv-summary 1,
  log-grep 1, fix-the-bug 0.5; run 1: csv-summary 0, log-grep an unreadable result.json,
  fix-the-bug 1. Turns 6 4 9 / 12 - 7 (fix-the-bug's only in agent/trajectory.json); no tokens.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from tmax.errors import ConfigError
from tmax.eval.report import MISSING, find_jobs, load_job, summarize, write_report

JOBS = Path(__file__).resolve().parents[1] / "fixtures" / "jobs"
HARBOR = JOBS / "2025-11-03__14-05-12"
TMAX = JOBS / "tmax-qwen3.5-0.8b"


def by_label(summaries):
    return {s.label: s for s in summaries}


def test_harbor_job_reads_the_real_layout():
    job = load_job(HARBOR)
    assert job.layout == "harbor"
    assert len(job.trials) == 6
    # model_info.name, which Harbor derives from "hosted_vllm/Qwen3.5-9B" by dropping the provider
    assert {t.model for t in job.trials} == {"Qwen3.5-9B"}
    assert {t.agent for t in job.trials} == {"terminus-2"}
    attempts = {(t.task, t.attempt): t for t in job.trials}
    # attempts follow started_at, not the dir names (Fh4nR6c < Kq3Zp8W < aB7xT2m by name)
    assert [attempts["csv-summary", k].name for k in range(3)] == [
        "csv-summary__Kq3Zp8W", "csv-summary__aB7xT2m", "csv-summary__Fh4nR6c"]
    errored = attempts["log-grep", 1]
    assert errored.reward is None
    assert errored.error.startswith("RewardFileNotFoundError: No reward file found")
    # agent_result is null here: turns and tokens come from the ATIF trajectory
    assert (errored.n_turns, errored.n_input_tokens, errored.n_output_tokens) == (6, 6000, 600)


def test_harbor_scores_by_hand():
    s = by_label(summarize([load_job(HARBOR)]))["Qwen3.5-9B"]
    # run 1: (1 + 1) / 2 = 1; run 2: (0 + error as 0) / 2 = 0; run 3: (1 + 0) / 2 = 0.5
    assert s.run_scores == pytest.approx([1.0, 0.0, 0.5])
    # mean 0.5; deviations .5, -.5, 0 -> sample var 0.5 / 2 = 0.25 -> SEM = 0.5 / sqrt(3)
    assert s.mean == pytest.approx(0.5)
    assert s.sem == pytest.approx(0.5 / math.sqrt(3))
    # pass@1: csv 2/3, log 1/3 -> 0.5. pass@2 (largest power of two <= 3 attempts):
    # csv 1 - C(1,2)/C(3,2) = 1; log 1 - C(2,2)/C(3,2) = 2/3 -> mean 5/6
    assert s.pass_at == pytest.approx({1: 0.5, 2: 5 / 6})
    assert (len(s.attempts), s.n_trials, len(s.errors)) == (2, 6, 1)
    assert s.solve_rate("csv-summary") == pytest.approx(2 / 3)
    assert sum(s.per_trial("n_turns")) / 6 == pytest.approx(27 / 6)  # 3+5+4+2+6+7
    assert sum(s.per_trial("n_input_tokens")) / 6 == pytest.approx(4500)  # 27000 / 6, errored one included


def test_tmax_scores_by_hand():
    job = load_job(TMAX)
    assert job.layout == "tmax"
    # model_info is null in half the trials and the broken one has none: job.json's model labels them all
    assert {t.model for t in job.trials} == {"Qwen/Qwen3.5-0.8B"}
    s = by_label(summarize([job]))["Qwen/Qwen3.5-0.8B"]
    # run 0: (1 + 1 + 0.5) / 3 = 5/6; run 1: (0 + unreadable as 0 + 1) / 3 = 1/3
    assert s.run_scores == pytest.approx([5 / 6, 1 / 3])
    # mean 7/12; deviations +-1/4 -> sample var 1/8 -> SEM sqrt(1/8 / 2) = 1/4
    assert (s.mean, s.sem) == pytest.approx((7 / 12, 0.25))
    # success means reward 1, so fix-the-bug's 0.5 is no success: each task 1 of 2 -> pass@1 = 0.5,
    # pass@2 = 1 - C(1,2)/C(2,2) = 1 for each task
    assert s.pass_at == pytest.approx({1: 0.5, 2: 1.0})
    assert [(t.task, t.name, t.error) for t in s.errors] == [("log-grep", "log-grep__r1", "unreadable result.json")]
    assert sum(s.per_trial("n_turns")) / 5 == pytest.approx(7.6)  # (6+4+9+12+7) / 5 readable trials
    assert s.per_trial("n_output_tokens") == []
    assert {t.domain for ts in s.attempts.values() for t in ts if t.domain} == {
        "data_processing", "system_administration", "debugging"}


def test_same_label_merges_into_more_runs(tmp_path):
    for name in ("a", "b"):
        shutil.copytree(TMAX, tmp_path / name)
    s = by_label(summarize([load_job(tmp_path / "a"), load_job(tmp_path / "b")]))["Qwen/Qwen3.5-0.8B"]
    assert s.run_scores == pytest.approx([5 / 6, 1 / 3, 5 / 6, 1 / 3])
    # deviations all +-1/4 -> sample var 4/16 / 3 = 1/12 -> SEM sqrt(1/12 / 4) = sqrt(1/48)
    assert (s.mean, s.sem) == pytest.approx((7 / 12, math.sqrt(1 / 48)))
    # 4 attempts -> pass@4; each task 2 of 4: 1 - C(2,4)/C(4,4) = 1
    assert s.pass_at == pytest.approx({1: 0.5, 4: 1.0})
    assert (s.n_trials, len(s.errors)) == (12, 2)


def test_missing_attempt_counts_zero_and_is_listed(tmp_path):
    shutil.copytree(TMAX, tmp_path / "a")
    shutil.copytree(TMAX, tmp_path / "b")
    shutil.rmtree(tmp_path / "b" / "fix-the-bug__r1")
    s = summarize([load_job(tmp_path / "a"), load_job(tmp_path / "b")])[0]
    # run 4: csv 0 + log unreadable 0 + fix-the-bug missing 0 = 0
    assert s.run_scores == pytest.approx([5 / 6, 1 / 3, 5 / 6, 0.0])
    assert [(t.task, t.error) for t in s.errors if t.error == MISSING] == [("fix-the-bug", MISSING)]
    assert s.n_trials == 11


def test_malformed_result_json_is_an_errored_trial_not_a_traceback(tmp_path):
    from typer.testing import CliRunner

    from tmax.cli import app

    shutil.copytree(TMAX, tmp_path / "a")
    path = tmp_path / "a" / "fix-the-bug__r1" / "result.json"
    result = json.loads(path.read_text())
    result.update(task_name=5, agent_result="not an object")
    path.write_text(json.dumps(result))
    trial = next(t for t in load_job(tmp_path / "a").trials if t.name == "fix-the-bug__r1")
    assert trial.reward is None and "malformed" in trial.error and str(path) in trial.error
    out = CliRunner().invoke(app, ["report", str(tmp_path / "a"), "-o", str(tmp_path / "report")])
    assert out.exit_code == 0 and "Traceback" not in out.output, out.output


def test_models_stay_apart_and_sort_by_score():
    summaries = summarize([load_job(p) for p in find_jobs([JOBS])])  # a folder of job dirs stands for them all
    assert [s.label for s in summaries] == ["Qwen/Qwen3.5-0.8B", "Qwen3.5-9B"]  # 7/12 before 1/2


def write_trial(job: Path, name: str, result: dict) -> None:
    (job / name).mkdir(parents=True)
    (job / name / "result.json").write_text(json.dumps(result))


def test_label_falls_back_to_agent_then_dir_name(tmp_path):
    job = tmp_path / "2025-01-01__oracle"
    job.mkdir()
    (job / "job.json").write_text(json.dumps({"agent": "oracle"}))
    write_trial(job, "t__r0", {"task_name": "t", "agent_info": {"name": "oracle", "model_info": None}, "reward": 1})
    assert [t.model for t in load_job(job).trials] == ["oracle"]
    bare = tmp_path / "bare-job"
    bare.mkdir()
    (bare / "job.json").write_text("{}")
    write_trial(bare, "t__r0", {"task_name": "t", "reward": 0.0})
    assert [t.model for t in load_job(bare).trials] == ["bare-job"]


def test_harbor_reward_without_reward_key_is_averaged_and_no_reward_is_an_error(tmp_path):
    job = tmp_path / "job"
    job.mkdir()
    (job / "config.json").write_text(json.dumps({"job_name": "job", "n_attempts": 1, "agents": [{"name": "nop"}]}))
    write_trial(job, "a__x1", {"task_name": "a", "verifier_result": {"rewards": {"tests": 1.0, "style": 0.5}}})
    write_trial(job, "b__x2", {"task_name": "b", "verifier_result": None, "exception_info": None})
    trials = {t.task: t for t in load_job(job).trials}
    assert (trials["a"].reward, trials["a"].error) == (0.75, None)
    assert trials["b"].reward is None and trials["b"].error.startswith("no reward")


def test_not_a_job_dir_says_what_and_where(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_job(tmp_path)
    assert str(tmp_path) in str(err.value) and "job.json" in str(err.value) and "fix:" in str(err.value)
    with pytest.raises(ConfigError, match="does not exist"):
        write_report([tmp_path / "nope"], tmp_path / "out")
    with pytest.raises(ConfigError, match="one trial") as err:
        load_job(HARBOR / "log-grep__Mv5sL3k")
    assert str(HARBOR) in str(err.value)


def test_write_report_writes_markdown_and_plots(tmp_path):
    path = write_report([HARBOR, TMAX], tmp_path / "out")
    assert path == tmp_path / "out" / "report.md"
    text = path.read_text()
    lines = text.splitlines()
    # model | runs | tasks | trials | errors | score | pass@1 | pass@2 | turns | tokens in / out
    assert "| Qwen/Qwen3.5-0.8B | 2 | 3 | 6 | 1 | 0.583 ± 0.250 | 0.500 | 1.000 | 7.6 | – / – |" in lines
    assert "| Qwen3.5-9B | 3 | 2 | 6 | 1 | 0.500 ± 0.289 | 0.500 | 0.833 | 4.5 | 4.5k / 450 |" in lines
    assert "| Qwen3.5-9B | 1.000 | 0.000 | 0.500 |" in lines  # per-run scores
    assert "| fix-the-bug | 0.50 (1/2) | – |" in lines  # per task; the Harbor model never ran it
    assert "| debugging | 1 | 0.750 | – |" in lines  # per domain: (0.5 + 1) / 2
    assert any("log-grep__Mv5sL3k" in line and "RewardFileNotFoundError" in line for line in lines)
    assert "| Qwen/Qwen3.5-0.8B | log-grep | 2 | log-grep__r1 | unreadable result.json |" in lines
    for png in ("score.png", "tasks_heatmap.png", "turns_tokens.png"):
        assert f"]({png})" in text
        data = (path.parent / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def _as_harness(src: Path, dest: Path, harness: str, rewards: dict[str, float]) -> Path:
    """A copy of a tmax job dir whose trials ran under ``harness``, rewards set per trial dir."""
    shutil.copytree(src, dest)
    job = json.loads((dest / "job.json").read_text())
    (dest / "job.json").write_text(json.dumps({**job, "harness": harness}))
    for trial in dest.iterdir():
        result_file = trial / "result.json"
        if trial.is_dir() and trial.name in rewards and trial.name != "log-grep__r1":  # that one is unreadable
            result = json.loads(result_file.read_text())
            result["config"]["harness"] = harness
            result["agent_info"]["name"] = harness
            result["reward"] = rewards[trial.name]
            result_file.write_text(json.dumps(result))
        elif trial.is_dir() and trial.name not in rewards:
            shutil.rmtree(trial)
    return dest


def test_models_by_harnesses_side_by_side(tmp_path):
    runs = {f"{task}__r{k}": 0.0 for task in ("csv-summary", "log-grep", "fix-the-bug") for k in (0, 1)}
    codex = _as_harness(TMAX, tmp_path / "codex", "codex", {**runs, "csv-summary__r0": 1.0})
    mini = _as_harness(TMAX, tmp_path / "mini", "mini-swe-agent", {**runs, "fix-the-bug__r0": 0.5})
    summaries = by_label(summarize([load_job(p) for p in (TMAX, codex, mini, HARBOR)]))
    # the same model under three harnesses: three summaries, labels say the harness
    assert set(summaries) == {"Qwen/Qwen3.5-0.8B (tmax)", "Qwen/Qwen3.5-0.8B (codex)",
                              "Qwen/Qwen3.5-0.8B (mini-swe-agent)", "Qwen3.5-9B"}
    codex_s = summaries["Qwen/Qwen3.5-0.8B (codex)"]
    # run 0: (1 + 0 + 0) / 3; run 1: (0 + unreadable as 0 + 0) / 3 -> mean 1/6, SEM 1/6
    assert codex_s.harness == "codex" and codex_s.run_scores == pytest.approx([1 / 3, 0.0])
    assert len(codex_s.errors) == 1 and codex_s.errors[0].name == "log-grep__r1"  # the job's harness, not tmax's
    assert summaries["Qwen3.5-9B"].harness == "terminus-2"  # a Harbor trial's agent is its harness
    md = write_report([TMAX, codex, mini, HARBOR], tmp_path / "report").read_text()
    section = md.split("## Models × harnesses", 1)[1].split("\n## ", 1)[0]
    header, _, *rows = [line for line in section.splitlines() if line.startswith("|")]
    assert header == "| model | tmax | codex | mini-swe-agent | terminus-2 |"
    cells = {row.split(" | ")[0].strip("| "): row.strip("| ").split(" | ")[1:] for row in rows}
    # tmax: 7/12 ± 1/4 (test_tmax_scores_by_hand); codex 1/6 ± 1/6; mini: runs 0.5/3 and 0 -> 1/12 ± 1/12
    assert cells["Qwen/Qwen3.5-0.8B"] == ["0.583 ± 0.250 (n=6)", "0.167 ± 0.167 (n=6)", "0.083 ± 0.083 (n=6)", "–"]
    assert cells["Qwen3.5-9B"] == ["–", "–", "–", "0.500 ± 0.289 (n=6)"]


def test_one_harness_of_tmax_only_has_no_harness_table():
    md = render_for([TMAX])
    assert "## Models × harnesses" not in md


def render_for(paths):
    from tmax.eval.report import render

    jobs = [load_job(p) for p in paths]
    summaries = summarize(jobs)
    return render(jobs, summaries, sorted({t for s in summaries for t in s.attempts}), {})
