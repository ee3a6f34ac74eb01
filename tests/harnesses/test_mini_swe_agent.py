"""mini-swe-agent's real agent loop (pip mini-swe-agent, litellm) on a tmax task in a real
sandbox, its model a scripted tmax serve on loopback."""

from __future__ import annotations

import json

import pytest

from tests.harnesses.conftest import LOG_GREP, bash_call, solve_command

pytest.importorskip("minisweagent")


def _run(server, tmp_path, rootfs, **outside):
    from tmax.harnesses import Endpoint, OutsideConfig, make_harness_agent
    from tmax.tasks import load_task
    from tmax.trial import run_trial

    agent = make_harness_agent("mini-swe-agent", Endpoint(server.url, "scripted"), OutsideConfig(**outside))
    summary = run_trial(load_task(LOG_GREP), tmp_path, agent=agent, backend="bwrap", agent_name="mini-swe-agent")
    return summary, json.loads((summary.trial_dir / "result.json").read_text())


def test_mini_swe_agent_solves_a_task_in_the_sandbox(scripted_server, decode, tmp_path, rootfs):
    replies = ["Solve it.\n" + bash_call(solve_command()),
               "Submit.\n" + bash_call("echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT")]
    with scripted_server(replies) as (server, engine):
        summary, result = _run(server, tmp_path, rootfs)
    assert summary.error is None and result["reward"] == 1.0  # the verifier saw the work done in the sandbox
    assert result["harness"] == "mini-swe-agent"
    meta = result["agent_result"]["metadata"]
    assert meta["exit_reason"] == "Submitted" and meta["n_tool_calls"] == 2 and meta["n_model_calls"] == 2
    first, second = decode(engine.prompts[0]), decode(engine.prompts[1])
    assert "Please solve this issue:" in first and "/var/log/myapp/app.log" in first  # mini-swe-agent's own prompt
    assert '"name": "bash"' in first  # its bash tool, through litellm's tools
    assert "solved-in-sandbox" in second.rsplit("<tool_response>", 1)[1]  # ran inside the sandbox (its hostname)
    traj = json.loads((summary.trial_dir / "agent" / "mini-swe-agent.traj.json").read_text())
    assert traj["info"]["exit_status"] == "Submitted" and traj["trajectory_format"].startswith("mini-swe-agent")


def test_step_limit_ends_the_loop_and_the_verifier_still_scores(scripted_server, tmp_path, rootfs):
    with scripted_server([bash_call("ls /app")] * 3) as (server, engine):
        summary, result = _run(server, tmp_path, rootfs, step_limit=2)
    assert summary.error is None and result["reward"] == 0.0 and result["verifier_result"]["source"] == "reward.txt"
    assert result["agent_result"]["metadata"]["exit_reason"] == "LimitsExceeded"
    assert len(engine.prompts) == 2


def test_an_unreachable_model_is_an_infrastructure_error(tmp_path, rootfs):
    import socket

    from tmax.harnesses import Endpoint, OutsideConfig, make_harness_agent
    from tmax.tasks import load_task
    from tmax.trial import run_trial

    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    agent = make_harness_agent("mini-swe-agent", Endpoint(f"http://127.0.0.1:{port}/v1", "gone"),
                               OutsideConfig(model_retries=1))
    summary = run_trial(load_task(LOG_GREP), tmp_path, agent=agent, backend="bwrap")
    result = json.loads((summary.trial_dir / "result.json").read_text())
    assert result["reward"] is None and result["exception_info"]["exception_type"] == "InfraError"
    assert "model endpoint failed" in result["exception_info"]["exception_message"]
