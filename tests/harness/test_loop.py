"""The agent loop end to end in a real bwrap sandbox, driven by scripted policies."""

from __future__ import annotations

import pytest

from tmax.harness.atif_read import atif_messages
from tmax.harness.loop import HarnessConfig, run_episode, save_trajectory, load_trajectory
from tmax.harness.policy import ScriptedPolicy, qwen3_xml_call
from tmax.sandbox.base import SandboxSpec


class CannedReplies:
    """A policy that returns fixed reply texts in order (then repeats the last)."""

    def __init__(self, *texts: str):
        self.texts, self.calls = list(texts), 0

    def generate(self, messages):
        text = self.texts[min(self.calls, len(self.texts) - 1)]
        self.calls += 1
        return {"role": "assistant", "content": text}


@pytest.fixture
def box(rootfs):
    from tmax.sandbox.bwrap import BwrapSandbox

    with BwrapSandbox(rootfs, SandboxSpec(memory_mb=512)) as sb:
        yield sb


def tool_messages(episode):
    return [m["content"] for m in episode.messages if m["role"] == "tool"]


def test_scripted_episode_keeps_shell_state_and_submits(box, tmp_path):
    policy = ScriptedPolicy(["cd /tmp && export N=7", "echo $N > n.txt; pwd", "cat /tmp/n.txt"])
    episode = run_episode(policy, box, "Write 7 to /tmp/n.txt.", workdir="/app")
    assert episode.exit_reason == "submitted" and episode.n_tool_calls == 3
    outputs = tool_messages(episode)
    assert outputs[1] == "exit code: 0\noutput:\n/tmp\n"
    assert outputs[2] == "exit code: 0\noutput:\n7\n"
    assert episode.messages[0]["role"] == "system" and "COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT" in episode.messages[0]["content"]
    assert "Write 7 to /tmp/n.txt." in episode.messages[1]["content"]
    save_trajectory(episode, tmp_path / "trajectory.json", agent="scripted")
    saved = load_trajectory(tmp_path / "trajectory.json")  # ATIF; the message list comes back exactly
    assert saved["schema_version"].startswith("ATIF-v1.") and saved["agent"]["name"] == "scripted"
    assert saved["extra"]["tmax"]["exit_reason"] == "submitted" and atif_messages(saved) == (episode.messages, 3)
    agent_steps = [s for s in saved["steps"] if s["source"] == "agent"]
    assert [c["command"] for s in agent_steps for c in s["extra"]["commands"]][0] == "cd /tmp && export N=7"
    assert [c["arguments"]["command"] for c in agent_steps[0]["tool_calls"]] == ["cd /tmp && export N=7"]
    assert agent_steps[1]["observation"]["results"][0]["content"] == outputs[1]


def test_format_errors_are_answered_then_end_the_episode(box):
    policy = CannedReplies("I will just think.", "<tool_call>\nls\n</tool_call>", "still nothing")
    episode = run_episode(policy, box, "task", config=HarnessConfig(max_format_errors=3))
    assert episode.exit_reason.startswith("limits_exceeded") and episode.n_format_errors == 3
    feedback = [m["content"] for m in episode.messages if m["role"] == "user"][1:]
    assert len(feedback) == 2 and all(f.startswith("Format error:") for f in feedback)
    assert "no tool call" in feedback[0] and "<function=NAME>" in feedback[1]


def test_a_good_call_resets_the_format_error_streak(box):
    policy = CannedReplies("oops", qwen3_xml_call("true"), "oops", qwen3_xml_call("echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"))
    episode = run_episode(policy, box, "task", config=HarnessConfig(max_format_errors=2))
    assert episode.exit_reason == "submitted" and episode.n_format_errors == 2


def test_unknown_tool_is_a_format_error(box):
    bad = "<tool_call>\n<function=python>\n<parameter=code>\nprint(1)\n</parameter>\n</function>\n</tool_call>"
    episode = run_episode(CannedReplies(bad), box, "task", config=HarnessConfig(max_format_errors=1))
    assert episode.n_tool_calls == 0 and episode.exit_reason.startswith("limits_exceeded")


def test_tool_call_limit_warns_once_then_stops(box):
    episode = run_episode(ScriptedPolicy(["echo a"] * 10, submit=False), box, "task",
                          config=HarnessConfig(max_tool_calls=3))
    assert episode.exit_reason == "limits_exceeded: 3 tool calls" and episode.n_tool_calls == 3
    outputs = tool_messages(episode)
    assert "one tool call remains" in outputs[1] and "one tool call remains" not in outputs[0]


def test_submit_must_be_alone_and_timeouts_and_long_output_are_shown(box):
    policy = ScriptedPolicy(["echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && ls", "sleep 30", "seq 1 100000"])
    episode = run_episode(policy, box, "task", config=HarnessConfig(command_timeout_sec=1, output_head=50,
                                                                     output_tail=50))
    assert episode.exit_reason == "submitted" and episode.n_tool_calls == 3
    first, slow, long = tool_messages(episode)
    assert "COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT" in first
    assert "timed out after 1s" in slow
    assert long.count("\n") < 40 and "characters elided" in long and long.endswith("99999\n100000\n")


def test_agent_wall_clock_limit(box):
    episode = run_episode(ScriptedPolicy(["sleep 1"] * 20, submit=False), box, "task", timeout=2.5)
    assert episode.exit_reason == "limits_exceeded: agent timeout (2.5s)"
    assert 2 <= episode.n_tool_calls <= 4


def test_prompts_can_be_replaced_from_the_config(box):
    config = HarnessConfig(system_prompt="Use bash. Finish with: echo {{ submit_command }} ({{ max_tool_calls }} calls)",
                           instance_prompt="TASK: {{ instruction | trim }} in {{ workdir }}")
    episode = run_episode(ScriptedPolicy(["true"]), box, "Do it.\n", workdir="/app", config=config)
    assert episode.messages[0]["content"] == "Use bash. Finish with: echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT (64 calls)"
    assert episode.messages[1]["content"] == "TASK: Do it. in /app"
    from tmax.errors import ConfigError

    with pytest.raises(ConfigError, match="prompt template"):
        run_episode(ScriptedPolicy([]), box, "x", config=HarnessConfig(system_prompt="{{ nope }}"))
