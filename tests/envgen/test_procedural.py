"""`tmax generate --writer procedural`: 90 tasks over all 9 domains, balanced, unique,
deterministic, resumable; a sample of them solved by the oracle and failed by noop."""

from __future__ import annotations

import filecmp
import random
import shutil
from collections import Counter

from tmax.envgen.procedural import generate
from tmax.envgen.taxonomy import DOMAINS, balance
from tmax.trial import run_trial
from tmax.tasks import load_task


def _tree_equal(a, b) -> bool:
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.diff_files or cmp.funny_files:
        return False
    return all(_tree_equal(a / d, b / d) for d in cmp.common_dirs)


def test_ninety_tasks_balanced_unique_deterministic(tmp_path):
    dirs = generate(90, tmp_path / "a", seed=0)
    tasks = [load_task(d) for d in dirs]
    domains = Counter(t.metadata["domain"] for t in tasks)
    assert set(domains) == set(DOMAINS) and balance(domains, DOMAINS) >= 0.99
    assert len({t.metadata["signature"] for t in tasks}) == 90
    levels = Counter(t.metadata["task_complexity"] for t in tasks)
    assert max(levels.values()) - min(levels.values()) <= 9  # the four buckets come round evenly
    assert all(t.has_oracle and t.instruction.startswith("You are helping a") for t in tasks)

    generate(90, tmp_path / "b", seed=0)
    assert _tree_equal(tmp_path / "a", tmp_path / "b")  # same seed, same bytes

    shutil.rmtree(dirs[17])
    made = []
    generate(90, tmp_path / "a", seed=0, on_task=lambda path, new: new and made.append(path.name))
    assert made == [dirs[17].name] and _tree_equal(tmp_path / "a", tmp_path / "b")


def test_a_sample_of_generated_tasks_oracle_one_noop_zero(podman_image, tmp_path):
    dirs = generate(18, tmp_path / "tasks", seed=3)
    for task_dir in random.Random(0).sample(dirs, 3):
        task = load_task(task_dir)
        oracle = run_trial(task, tmp_path / "jobs", agent="oracle")
        noop = run_trial(task, tmp_path / "jobs", agent="noop")
        assert (oracle.reward, noop.reward, oracle.error, noop.error) == (1.0, 0.0, None, None), task.name
