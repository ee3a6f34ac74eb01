"""SFT data from ATIF trajectories of other agents: content parts, reasoning, copied context out of
the loss, token ids used when the steps carry them, one malformed trajectory skipped with a
warning. The trajectories are checked to be real ATIF by the `harbor` package (when present)."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.harbor_support import harbor_check, invalid
from tmax.engines.chat import ChatRenderer
from tmax.sft.data import TrajectoryWarning, collect, to_record

SUBMIT = "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"


def _call(call_id: str, command: str) -> dict:
    return {"tool_call_id": call_id, "function_name": "bash", "arguments": {"command": command}}


def _steps(with_ids: bool) -> list[dict]:
    def metrics(prompt, completion):
        return {"metrics": {"prompt_token_ids": prompt, "completion_token_ids": completion,
                            "logprobs": [-0.5] * len(completion)}} if with_ids else {}

    return [
        {"step_id": 1, "source": "system", "message": "You solve tasks with bash."},
        {"step_id": 2, "source": "user", "message": [{"type": "text", "text": "Count the lines of a.txt."},
                                                     {"type": "image", "source": {"media_type": "image/png",
                                                                                  "path": "screen.png"}}]},
        {"step_id": 3, "source": "agent", "message": "Earlier: I listed the files.", "is_copied_context": True,
         "tool_calls": [_call("c0", "ls")], "observation": {"results": [{"source_call_id": "c0", "content": "a.txt"}]},
         **metrics([1, 2, 3], [10, 11])},
        {"step_id": 4, "source": "agent", "message": [{"type": "text", "text": "Counting now."}],
         "reasoning_content": "wc -l prints the count.", "tool_calls": [_call("c1", "wc -l a.txt")],
         "observation": {"results": [{"source_call_id": "c1", "content": [{"type": "text", "text": "3 a.txt"}]}]},
         **metrics([1, 2, 3, 10, 11, 4, 5], [12, 13, 14])},
        {"step_id": 5, "source": "agent", "message": "Done.", "tool_calls": [_call("c2", SUBMIT)],
         **metrics([1, 2, 3, 10, 11, 4, 5, 12, 13, 14, 6], [15, 16])},
    ]


def _trial(job, name: str, trajectory: dict) -> None:
    trial = job / name
    (trial / "agent").mkdir(parents=True)
    (trial / "agent" / "trajectory.json").write_text(json.dumps(trajectory))
    task = {"path": "/tasks/count-lines"}
    (trial / "config.json").write_text(json.dumps({"task": task, "trial_name": name}))
    (trial / "result.json").write_text(json.dumps({
        "task_name": "count-lines", "trial_name": name, "trial_uri": trial.as_uri(), "task_id": task,
        "task_checksum": "0" * 64, "config": {"task": task}, "agent_info": {"name": "terminus-2", "version": "2"},
        "verifier_result": {"rewards": {"reward": 1.0}}, "started_at": "2025-11-03T14:05:12+00:00"}))


@pytest.fixture
def harbor_job(tmp_path):
    """A Harbor job dir: a text-only trajectory, one with token ids, one malformed."""
    job = tmp_path / "jobs" / "atif"
    agent = {"name": "terminus-2", "version": "2"}
    _trial(job, "count-lines__text", {"schema_version": "ATIF-v1.6", "agent": agent, "steps": _steps(False)})
    _trial(job, "count-lines__ids", {"schema_version": "ATIF-v1.6", "agent": agent, "steps": _steps(True)})
    broken = _steps(False)
    broken[3]["message"] = [{"kind": "text", "text": "no type"}]
    _trial(job, "count-lines__broken", {"schema_version": "ATIF-v1.6", "agent": agent, "steps": broken})
    (job / "config.json").write_text("{}")
    (job / "result.json").write_text(json.dumps({"id": str(uuid.uuid4()), "started_at": "2025-11-03T14:05:12+00:00",
                                                 "n_total_trials": 3, "stats": {}}))
    return job


def test_the_fixture_is_atif_as_harbor_reads_it(harbor_job, harbor):
    problems = invalid(harbor_check(harbor, harbor_job.parent))
    assert list(problems) == [str(harbor_job / "count-lines__broken" / "agent" / "trajectory.json")]


def test_atif_messages_reasoning_and_copied_context(harbor_job, tokenizer):
    with pytest.warns(TrajectoryWarning, match=r"count-lines__broken/agent/trajectory.json: steps\[3\].message"):
        examples = collect([harbor_job], min_tool_calls=2)
    assert [e.trial for e in examples] == ["count-lines__ids", "count-lines__text"]  # the broken one skipped
    text = examples[1]
    assert text.n_tool_calls == 2  # the copied step's call is not counted
    assert [m["role"] for m in text.messages] == ["system", "user", "assistant", "tool", "assistant", "tool", "assistant"]
    assert text.messages[1]["content"] == "Count the lines of a.txt.\n[image: screen.png]"
    assert text.messages[3]["content"] == "a.txt" and text.messages[5]["content"] == "3 a.txt"
    assert text.messages[2]["copied_context"] and "<parameter=command>\nls\n" in text.messages[2]["content"]
    assert text.messages[4]["reasoning_content"] == "wc -l prints the count."

    renderer = ChatRenderer(tokenizer)
    record = to_record(text, renderer)
    assert len(record.turns) == 2  # the copied reply is context
    first = tokenizer.decode(record.ids[slice(*record.turns[0])])
    assert first.startswith("<think>\nwc -l prints the count.\n</think>\n\nCounting now.\n<tool_call>")
    copied = tokenizer.decode([i for i, m in zip(record.ids, record.mask) if m == 0])
    assert "Earlier: I listed the files." in copied


def test_atif_token_ids_are_used_when_present(harbor_job, tokenizer):
    with pytest.warns(TrajectoryWarning):
        [ids, _] = collect([harbor_job], min_tool_calls=2)
    record = to_record(ids, ChatRenderer(tokenizer))
    assert record.ids == [1, 2, 3, 10, 11, 4, 5, 12, 13, 14, 6, 15, 16]
    assert record.mask == [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 1, 1]  # copied reply [10, 11] out of the loss
    assert record.turns == [[7, 10], [11, 13]] and record.logprobs[7:10] == [-0.5] * 3
