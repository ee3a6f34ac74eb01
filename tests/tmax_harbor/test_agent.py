"""tmax's harness as a Harbor agent under the real `harbor run`, against models served on loopback
by `tmax serve` (tmax.serve.ModelServer in this process): the tiny random Qwen3 model (garbage
replies, so reward 0, but a complete trial with its token record) and a scripted engine that
answers the reference solution (reward 1)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import EXAMPLES
from tests.tmax_harbor.harbor_cli import failure, harbor_run, reward

pytest.importorskip("sse_starlette")
LOG_GREP = EXAMPLES / "log-grep"


def _check_atif(harbor_python: str, path) -> None:
    import subprocess

    code = ("import json,sys; from harbor.models.trajectories import Trajectory; "
            "Trajectory.model_validate(json.load(open(sys.argv[1])))")
    done = subprocess.run([harbor_python, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_tmax_agent_with_a_served_tiny_model_fills_rollout_details(harbor, rootfs, tiny_model_dir, tmp_path):
    from tmax.engines.hf import HFEngine
    from tmax.serve import ModelServer

    engine = HFEngine.from_pretrained(tiny_model_dir)
    with ModelServer(engine, engine.tokenizer, "tiny", port=0,
                     max_context=engine.model.config.max_position_embeddings) as server:
        trials = harbor_run(harbor, tmp_path / "jobs", "tiny", "-p", str(LOG_GREP), "-a", "tmax.harbor:TmaxAgent",
                            "-m", "openai/tiny", "-e", "tmax.harbor:Bwrap", "--ak", f"base_url={server.url}",
                            "--ak", f"tokenizer={tiny_model_dir}", "--ak", "max_tokens=48")
    trial = trials["log-grep"]
    assert not failure(trial), failure(trial)
    assert reward(trial) == 0.0
    details = trial["agent_result"]["rollout_details"]
    assert len(details) == 1 and details[0]["completion_token_ids"]
    for ids, logprobs in zip(details[0]["completion_token_ids"], details[0]["logprobs"]):
        assert len(ids) == len(logprobs) > 0 and all(lp <= 0.0 for lp in logprobs)
    assert trial["agent_result"]["metadata"]["n_turns"] == len(details[0]["completion_token_ids"])
    trajectory = next((tmp_path / "jobs" / "tiny").glob("log-grep__*/agent/trajectory.json"))
    _check_atif(harbor, trajectory)
    steps = json.loads(trajectory.read_text())["steps"]
    assert sum(s["source"] == "agent" for s in steps) == len(details[0]["completion_token_ids"])


def test_tmax_agent_solves_a_task_when_the_model_answers_the_solution(harbor, rootfs, tokenizer, tmp_path):
    from tests.harnesses.conftest import bash_call, solve_command
    from tmax.engines.token_policy import ScriptedEngine
    from tmax.serve import ModelServer

    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    replies = [bash_call("cd /app && pwd && export STEP=one"), bash_call('echo "cwd=$(pwd) step=$STEP"'),
               bash_call(solve_command()), bash_call("echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT")]
    engine = ScriptedEngine([tokenizer(r, add_special_tokens=False)["input_ids"] + [end] for r in replies])
    with ModelServer(engine, tokenizer, "scripted", port=0) as server:
        trials = harbor_run(harbor, tmp_path / "jobs", "scripted", "-p", str(LOG_GREP),
                            "-a", "tmax.harbor:TmaxAgent", "-m", "openai/scripted", "-e", "tmax.harbor:Bwrap",
                            "--ak", f"base_url={server.url}", "--ak", f"tokenizer={tokenizer.name_or_path}")
    trial = trials["log-grep"]
    assert not failure(trial), failure(trial)
    assert reward(trial) == 1.0
    assert trial["agent_result"]["metadata"]["exit_reason"] == "submitted"
    assert len(trial["agent_result"]["rollout_details"][0]["completion_token_ids"]) == 4
    steps = json.loads(next((tmp_path / "jobs" / "scripted").glob("log-grep__*/agent/trajectory.json")).read_text())
    observations = json.dumps(steps)
    assert "cwd=/app step=one" in observations  # the persistent shell kept cwd and exports
