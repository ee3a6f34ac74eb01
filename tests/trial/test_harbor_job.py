"""A job's Harbor result.json kept by JobRecord over a real trial's result: a retried or
re-sampled trial replaces its old result in the stats, a resumed job keeps its id and recounts."""

from __future__ import annotations

import copy
import json

from tests.conftest import EXAMPLES
from tmax.trial.harbor_job import JobRecord, job_config
from tmax.trial.harbor_result import agent_config, environment_config


def test_a_trial_run_again_replaces_its_old_result(rootfs, tmp_path):
    from tmax.tasks import load_task
    from tmax.trial import run_trial

    task = load_task(EXAMPLES / "log-grep")
    config = job_config(tmp_path / "job", tasks=[task.path], n_attempts=1, n_concurrent=1,
                        agent=agent_config("stepwise", None), environment=environment_config("bwrap"))
    record = JobRecord(tmp_path / "job", config, n_total_trials=1)
    summary = run_trial(task, tmp_path / "job", agent="stepwise", backend="bwrap", trial_name="log-grep__r0",
                        job_id=record.id)
    solved = json.loads((summary.trial_dir / "result.json").read_text())
    errored = copy.deepcopy(solved)
    errored.update(reward=None, verifier_result=None, exception_info={
        "exception_type": "SandboxError", "exception_message": "x", "exception_traceback": "", "occurred_at": solved["started_at"]})

    def stats():
        return json.loads(record.path.read_text())["stats"]

    record.add(errored)
    assert (stats()["n_completed_trials"], stats()["n_errored_trials"]) == (1, 1)
    assert stats()["evals"]["stepwise__adhoc"]["metrics"] == [{"mean": 0.0}]
    record.add(solved, previous=errored)  # the retry, in the same trial dir
    entry = stats()["evals"]["stepwise__adhoc"]
    assert (stats()["n_completed_trials"], stats()["n_errored_trials"], stats()["n_pending_trials"]) == (1, 0, 0)
    assert entry["metrics"] == [{"mean": 1.0}] and entry["n_trials"] == 1 and entry["exception_stats"]["SandboxError"] == []

    record.add(solved)  # counted twice by mistake: reopening the job recounts from the trial dirs
    again = JobRecord(tmp_path / "job", config, n_total_trials=1)
    assert again.id == record.id and stats()["n_completed_trials"] == 1
