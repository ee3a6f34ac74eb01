"""The stepwise agent: a reference solution split into complete commands, one tool call each."""

from __future__ import annotations

import json

from tmax.trial.agents import script_steps


def test_script_steps_keep_multiline_constructs_whole():
    script = ("#!/bin/bash\nset -euo pipefail\n# a comment\n\ncat <<EOF > /app/x\na\n\nb\nEOF\n"
              "for i in 1 2; do\n  echo $i\ndone\necho one \\\n  two\nif true; then echo y; fi\nls\n")
    assert script_steps(script) == ["cat <<EOF > /app/x\na\n\nb\nEOF", "for i in 1 2; do\n  echo $i\ndone",
                                    "echo one \\\n  two", "if true; then echo y; fi", "ls"]


def test_an_unfinished_construct_is_sent_as_is():
    assert script_steps("echo a\nif true; then\n echo b\n") == ["echo a", "if true; then\n echo b"]


def test_stepwise_runs_each_command_as_a_tool_call(tmp_path, podman_image):
    from tmax.envgen.starter import split
    from tmax.trial import run_trial
    from tmax.tasks import load_task

    _, heldout = split(tmp_path / "tasks", 1, 6)
    task = load_task(next(heldout.glob("copy-word-*")))
    summary = run_trial(task, tmp_path / "job", agent="stepwise", backend="bwrap")
    trajectory = json.loads((summary.trial_dir / "agent" / "trajectory.json").read_text())
    commands = [c["command"] for step in trajectory["steps"] for c in (step.get("extra") or {}).get("commands", [])]
    assert summary.reward == 1.0
    assert commands == script_steps(task.oracle_script.read_text()) and len(commands) == 4
    assert trajectory["extra"]["tmax"]["exit_reason"] == "submitted"
