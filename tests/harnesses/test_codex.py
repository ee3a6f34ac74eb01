"""The real Codex CLI run inside a task's sandbox (bwrap, podman), its model reached only
through the portal: a scripted tmax serve that makes it call its exec_command tool, and a
tiny model served by `tmax eval --harness codex` itself."""

from __future__ import annotations

import json
import shutil
import sys

import pytest

from tests.harnesses.conftest import LOG_GREP, bash_call, solve_command

pytestmark = pytest.mark.skipif(shutil.which("codex") is None,
                                reason="Codex CLI is not installed (scripts/setup.sh installs @openai/codex)")


def _events(trial_dir) -> list[dict]:
    return [json.loads(line) for line in (trial_dir / "agent" / "codex.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("backend", ["bwrap", "podman"])
def test_codex_solves_a_task_inside_the_sandbox(backend, request, scripted_server, decode, tmp_path):
    from tmax.harnesses import Endpoint, make_harness_agent
    from tmax.tasks import load_task
    from tmax.trial import run_trial

    request.getfixturevalue("rootfs" if backend == "bwrap" else "podman_image")  # skips without the backend
    call = bash_call(solve_command(), name="exec_command", arg="cmd")
    with scripted_server([call, "Done: /app/errors.txt is written.", "done"]) as (server, engine):
        agent = make_harness_agent("codex", Endpoint(server.url, "scripted"))
        summary = run_trial(load_task(LOG_GREP), tmp_path, agent=agent, backend=backend, agent_name="codex")
    result = json.loads((summary.trial_dir / "result.json").read_text())
    assert summary.error is None, result["exception_info"]
    assert result["reward"] == 1.0 and result["harness"] == "codex"
    meta = result["agent_result"]["metadata"]
    assert meta["exit_reason"] == "completed" and meta["n_tool_calls"] == 1 and meta["n_turns"] == 1
    commands = [e["item"] for e in _events(summary.trial_dir)
                if e.get("type") == "item.completed" and e["item"].get("type") == "command_execution"]
    assert "solved-in-sandbox" in commands[0]["aggregated_output"]  # it ran in the sandbox (its hostname)
    assert "solved-in-sandbox" in decode(engine.prompts[1]).rsplit("<tool_response>", 1)[1]  # output to the model
    assert "/var/log/myapp/app.log" in decode(engine.prompts[0])  # the task's instruction reached the model
    assert list((summary.trial_dir / "agent" / "sessions").rglob("*.jsonl"))  # Codex's own rollout record


def test_codex_cannot_reach_the_host(scripted_server, tmp_path, rootfs):
    """Its commands see the sandbox's network only: the model server's own port on the host
    loopback is closed to them (only the portal's port leads out)."""
    from tmax.harnesses import Endpoint, make_harness_agent
    from tmax.tasks import load_task
    from tmax.trial import run_trial

    with scripted_server([]) as (server, _):
        port = server.url.split(":")[2].split("/")[0]
        probe = (f"python3 -c 'import urllib.request as u; u.urlopen(\"http://127.0.0.1:{port}/health\", timeout=5)'"
                 " && echo reached-host || echo blocked")
        with scripted_server([bash_call(probe, name="exec_command", arg="cmd"), "done", "done"]) as (inner, _):
            agent = make_harness_agent("codex", Endpoint(inner.url, "scripted"))
            summary = run_trial(load_task(LOG_GREP), tmp_path, agent=agent, backend="bwrap")
    outputs = [e["item"]["aggregated_output"] for e in _events(summary.trial_dir)
               if e.get("type") == "item.completed" and e["item"].get("type") == "command_execution"]
    assert outputs and "blocked" in outputs[0] and "reached-host" not in outputs[0]


@pytest.mark.slow
def test_tmax_eval_harness_codex_with_a_served_tiny_model(tmp_path, rootfs):
    """`tmax eval --harness codex --model DIR`: the eval serves the model, Codex runs in each
    trial's sandbox, the verifier scores; `tmax report` shows the harness."""
    import subprocess

    from tests.serve.test_codex import ending_model

    model = ending_model(tmp_path / "tiny-ends")
    argv = [sys.executable, "-m", "tmax.cli", "eval", str(LOG_GREP), "--harness", "codex", "--model", str(model),
            "--sandbox", "bwrap", "--jobs-dir", str(tmp_path / "jobs"), "--job-name", "codex"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, env={"PYTHONPATH": ":".join(sys.path),
                                                                                  "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    result = json.loads((tmp_path / "jobs" / "codex" / "log-grep__r0" / "result.json").read_text())
    assert result["exception_info"] is None and result["reward"] == 0.0  # a random model: scored, not errored
    assert result["agent_result"]["metadata"]["n_turns"] >= 1 and result["agent_result"]["n_input_tokens"] > 10000
    report = subprocess.run([*argv[:3], "report", str(tmp_path / "jobs" / "codex"), "-o", str(tmp_path / "report")],
                            capture_output=True, text=True, timeout=300, env={"PYTHONPATH": ":".join(sys.path)})
    assert report.returncode == 0, report.stderr[-2000:]
    table = report.stdout.split("## Models × harnesses", 1)[1]
    assert "| model | codex |" in table and "| tiny-ends | 0.000 ± 0.000 (n=1) |" in table


def test_a_model_endpoint_that_is_down_is_an_infrastructure_error(tmp_path, rootfs):
    import socket

    from tmax.harnesses import Endpoint, make_harness_agent
    from tmax.tasks import load_task
    from tmax.trial import run_trial

    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: Codex reaches the portal, the portal not the model
    agent = make_harness_agent("codex", Endpoint(f"http://127.0.0.1:{port}/v1", "gone"))
    summary = run_trial(load_task(LOG_GREP), tmp_path, agent=agent, backend="bwrap")
    result = json.loads((summary.trial_dir / "result.json").read_text())
    assert result["reward"] is None and result["exception_info"]["exception_type"] == "InfraError"
    assert "could not be reached" in result["exception_info"]["exception_message"]
