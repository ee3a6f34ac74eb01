"""`tmax eval --harness`: the eval serves a model dir for an outside harness (or checks a
server it is given), records the harness, and keeps jobs of different harnesses apart."""

from __future__ import annotations

import json

import pytest

from tests.harnesses.conftest import LOG_GREP

pytest.importorskip("minisweagent")


def test_eval_serves_a_tiny_model_for_mini_swe_agent(tiny_model_dir, rootfs, tmp_path):
    from tmax.eval.job import EvalConfig, run_eval

    cfg = EvalConfig(tasks=[str(LOG_GREP)], agent="hf", harness_name="mini-swe-agent", sandbox="bwrap",
                     jobs_dir=str(tmp_path), job_name="mini", engine={"model": str(tiny_model_dir),
                                                                      "sampling": {"max_tokens": 16}},
                     outside={"step_limit": 2})
    job_dir = run_eval(cfg)
    job = json.loads((job_dir / "job.json").read_text())
    result = json.loads((job_dir / "log-grep__r0" / "result.json").read_text())
    assert job["harness"] == "mini-swe-agent" and job["metrics"]["harness"] == "mini-swe-agent"
    assert result["exception_info"] is None and result["reward"] == 0.0  # a random model: scored, no error
    assert result["harness"] == "mini-swe-agent" and result["agent_info"]["name"] == "mini-swe-agent"
    assert result["agent_info"]["model_info"] == {"name": tiny_model_dir.name, "provider": "tmax serve"}
    assert result["agent_result"]["metadata"]["n_model_calls"] >= 1  # the loop reached the served model
    assert result["agent_result"]["n_input_tokens"] > 0
    # the same job dir with another harness is refused, not mixed
    from tmax.errors import ConfigError

    with pytest.raises(ConfigError, match="harness 'mini-swe-agent'"):
        run_eval(cfg.model_copy(update={"harness_name": "codex"}))


def test_an_outside_harness_needs_a_model():
    from pydantic import ValidationError

    from tmax.eval.job import EvalConfig

    with pytest.raises(ValidationError, match="the codex harness needs a model"):
        EvalConfig(tasks=["x"], harness_name="codex")
    with pytest.raises(ValidationError, match="unknown harness 'claude'"):
        EvalConfig(tasks=["x"], agent="hf", harness_name="claude")


def test_a_server_that_does_not_serve_the_model_is_refused_before_any_trial(scripted_server, tmp_path):
    from tmax.errors import ConfigError
    from tmax.eval.job import EvalConfig, run_eval

    with scripted_server([]) as (server, _):
        cfg = EvalConfig(tasks=[str(LOG_GREP)], agent="openai", harness_name="mini-swe-agent", sandbox="bwrap",
                         jobs_dir=str(tmp_path), job_name="x", engine={"model": "other", "base_url": server.url})
        with pytest.raises(ConfigError, match="does not serve 'other'"):
            run_eval(cfg)
    assert not (tmp_path / "x").exists()
