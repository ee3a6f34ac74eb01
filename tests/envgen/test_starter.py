"""Starter tasks: disjoint, reproducible splits; every kind solvable by its oracle, a do-nothing
agent scores 0 and a wrong answer gets partial credit -- graded by its own verifier in a sandbox."""

from __future__ import annotations

import tomllib

import pytest

from tmax.envgen.starter import DEFAULT_KINDS, split
from tmax.trial import run_trial
from tmax.tasks import load_task


def _instances(folder):
    return {tomllib.loads((d / "task.toml").read_text())["metadata"]["instance"] for d in folder.iterdir()}


def test_split_is_disjoint_balanced_and_reproducible(tmp_path):
    train, heldout = split(tmp_path / "a", 60, 12, seed=3)
    again, _ = split(tmp_path / "b", 60, 12, seed=3)
    assert len(list(train.iterdir())) == 60 and len(list(heldout.iterdir())) == 12
    assert not _instances(train) & _instances(heldout)
    assert {d.name.rsplit("-", 2)[0].replace("-", "_") for d in heldout.iterdir()} == set(DEFAULT_KINDS)
    for task in train.iterdir():
        assert (task / "instruction.md").read_text() == (again / task.name / "instruction.md").read_text()
    other, _ = split(tmp_path / "c", 60, 12, seed=4)
    assert _instances(other) != _instances(train)


def test_rl_split_is_disjoint_from_train_and_heldout_with_every_kind(tmp_path):
    train, heldout, rl = split(tmp_path / "a", 60, 12, seed=3, n_rl=30)
    assert [len(list(d.iterdir())) for d in (train, heldout, rl)] == [60, 12, 30]
    sets = [_instances(d) for d in (train, heldout, rl)]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    kinds = lambda folder: {d.name.rsplit("-", 2)[0].replace("-", "_") for d in folder.iterdir()}  # noqa: E731
    assert kinds(train) == kinds(rl) == set(DEFAULT_KINDS)
    plain_train, plain_heldout = split(tmp_path / "b", 90, 12, seed=3)  # same draw, not dealt out
    assert _instances(plain_heldout) == sets[1] and _instances(plain_train) == sets[0] | sets[2]


def test_asking_for_more_tasks_than_exist_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="ask for fewer"):
        split(tmp_path, 5000, 10)


def test_every_kind_oracle_one_noop_zero_wrong_answer_partial(tmp_path, podman_image):
    _, heldout = split(tmp_path / "tasks", 6, 6, seed=0)
    for task_dir in sorted(heldout.iterdir()):
        task = load_task(task_dir)
        assert run_trial(task, tmp_path / "jobs", agent="stepwise", backend="bwrap").reward == 1.0, task.name
        assert run_trial(task, tmp_path / "jobs", agent="noop", backend="bwrap").reward == 0.0, task.name
    word = load_task(next(heldout.glob("write-word-*")))
    target = word.instruction.split("file ")[1].rstrip(".\n")

    def wrong(sandbox, task, log_dir, timeout):
        from tmax.trial.agents import AgentOutcome

        sandbox.exec(f"echo wrong > {target}")
        return AgentOutcome()

    assert run_trial(word, tmp_path / "jobs", agent=wrong, backend="bwrap").reward == 0.5


EXPLORE = ["read_secret", "find_word", "run_tool", "count_files"]


@pytest.mark.slow  # builds one small image per fixture layout: ~40 s on a fresh machine, ~5 s cached
def test_exploration_kinds_oracle_one_noop_zero_answer_not_in_the_instruction(tmp_path, podman_image):
    """Each new kind, with a looking and a known-answer solution: the oracle (run step by step
    as SFT sees it) scores 1 either way, doing nothing scores 0, and the right answer never
    appears in the instruction."""
    for share in (0.0, 1.0):
        _, heldout = split(tmp_path / f"tasks-{share}", 4, 4, seed=0, kinds=EXPLORE, known_share=share)
        assert {d.name.rsplit("-", 2)[0].replace("-", "_") for d in heldout.iterdir()} == set(EXPLORE)
        for kind in EXPLORE:
            task = load_task(next(heldout.glob(f"{kind.replace('_', '-')}-*")))
            answer = task.oracle_script.read_text().split("echo ")[1].split(" >")[0]
            assert answer not in task.instruction, task.name
            assert run_trial(task, tmp_path / "jobs", agent="stepwise", backend="bwrap").reward == 1.0, task.name
            assert run_trial(task, tmp_path / "jobs", agent="noop", backend="bwrap").reward == 0.0, task.name


def test_known_share_picks_solutions_that_never_look_and_keeps_the_instances(tmp_path):
    """share 0: every solution looks before it answers; share 1: none does (it lists /app, which
    reads the same in every layout, and writes the answer); 0.5: about half. The instances
    (kind, layout, answer file) are the same whatever the share."""
    def looks(folder):
        solutions = [(d / "solution" / "solve.sh").read_text() for d in sorted(folder.iterdir())]
        return [not any(line == "ls /app" for line in s.splitlines()) for s in solutions]

    dirs = {share: split(tmp_path / str(share), 40, 8, seed=2, kinds=EXPLORE, known_share=share)[0]
            for share in (0.0, 0.5, 1.0)}
    assert all(looks(dirs[0.0])) and not any(looks(dirs[1.0]))
    assert 10 <= sum(looks(dirs[0.5])) <= 30
    assert _instances(dirs[0.0]) == _instances(dirs[0.5]) == _instances(dirs[1.0])
    with pytest.raises(ValueError, match="known_share"):
        split(tmp_path / "bad", 4, 2, kinds=EXPLORE, known_share=1.5)


def test_run_tool_first_try_fails_and_a_wrong_guess_gets_nothing(tmp_path, podman_image):
    _, heldout = split(tmp_path / "tasks", 2, 2, seed=1, kinds=["run_tool"])
    task = load_task(next(heldout.iterdir()))
    target = task.instruction.split("word to ")[1].rstrip(".\n")
    seen = {}

    def guess(sandbox, task, log_dir, timeout):
        from tmax.trial.agents import AgentOutcome

        seen["direct"] = sandbox.exec("/app/tool")
        sandbox.exec(f"echo wrong > {target}")
        return AgentOutcome()

    assert run_trial(task, tmp_path / "jobs", agent=guess, backend="bwrap").reward == 0.0  # all or nothing
    assert seen["direct"].exit_code != 0  # not executable: the obvious first command fails


def test_unknown_kind_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="choose from"):
        split(tmp_path, 4, 2, kinds=["read_secrets"])
