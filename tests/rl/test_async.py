"""The async side of RL sampling (``RolloutSource.collect``) on the tiny model in real bwrap
sandboxes, with verifiers that set the reward (tests/rl/reward_tasks.py): rollouts that lag
the policy by more than ``async_steps`` versions are dropped, ones within the bound are kept,
and active sampling pulls past groups whose rewards are all equal."""

from __future__ import annotations

import time

import pytest

from tests.rl.reward_tasks import reward_task
from tmax.engines.base import SamplingParams
from tmax.harness.loop import HarnessConfig


@pytest.fixture
def runner_for(tiny_model_dir, tmp_path):
    """``make(tasks, seed)`` -> (RolloutSource over LocalGroups of G = 2 on the hf engine, engine)."""
    from tmax.engines.batching import Batcher
    from tmax.engines.chat import ChatRenderer
    from tmax.engines.hf import HFEngine
    from tmax.engines.token_policy import TokenPolicy
    from tmax.rl.rollouts import LocalGroups, RolloutSource

    engine = HFEngine.from_pretrained(tiny_model_dir, dtype="float32")
    batcher, renderer = Batcher(engine), ChatRenderer(engine.tokenizer)
    sampling = SamplingParams(temperature=1.0, max_tokens=8)
    sources = []

    def make(tasks, seed: int):
        runner = LocalGroups(lambda: TokenPolicy(batcher, renderer, sampling, max_context_tokens=1024),
                             tmp_path / "run", group_size=2, concurrency=2,
                             harness=HarnessConfig(max_tool_calls=1, max_format_errors=1))
        sources.append(RolloutSource(tasks, runner, lambda: engine.version, seed=seed))
        return sources[-1], engine

    yield make
    for source in sources:
        source.close()
    batcher.close()


def _tasks(root, kinds: list[str]):
    from tmax.tasks import load_task

    return [load_task(reward_task(root, f"{kind}-{i}", kind)) for i, kind in enumerate(kinds)]


def test_rollouts_staler_than_async_steps_are_dropped(runner_for, tmp_path):
    source, engine = runner_for(_tasks(tmp_path / "tasks", ["coin"] * 4), seed=0)
    groups, info = source.collect(tasks_per_step=1, version=0, async_steps=0, max_pulls=1)
    assert info["n_pulled"] == 1 and groups[0].versions == [0, 0]
    deadline = time.monotonic() + 120
    while source._queue.qsize() < 3 and time.monotonic() < deadline:  # groups sampled by version 0 wait
        time.sleep(0.1)
    assert source._queue.qsize() >= 3
    engine.load_weights(engine.model.state_dict(), version=2)  # two optimizer steps later

    # within the bound (2 versions behind, async_steps 2): kept
    groups, info = source.collect(tasks_per_step=100, version=2, async_steps=2, max_pulls=1)
    assert info["n_stale"] == 0 and info["max_staleness"] == 2 and groups[0].versions == [0, 0]
    # past it (async_steps 1): every group of version 0 is dropped and counted, until groups
    # sampled by version 2 arrive
    groups, info = source.collect(tasks_per_step=100, version=2, async_steps=1, max_pulls=4)
    assert info["n_stale"] >= 2 and info["n_pulled"] == 4
    assert len(groups) == 4 - info["n_stale"] and all(g.versions == [2, 2] for g in groups)
    assert info["max_staleness"] == 0


def test_active_sampling_pulls_past_groups_with_equal_rewards(runner_for, tmp_path):
    source, _ = runner_for(_tasks(tmp_path / "tasks", ["flat"] * 5 + ["noise"]), seed=5)
    order = [source._task(i).name for i in range(6)]
    first = order.index("noise-5")
    assert first >= 2  # this seed puts at least two all-equal groups first
    groups, info = source.collect(tasks_per_step=1, version=0, async_steps=0, max_pulls=10)
    assert info["n_pulled"] == first + 1 and info["n_zero_std"] == first and info["n_informative"] == 1
    assert groups[0].task == "noise-5" and len(set(groups[0].rewards)) == 2  # informative ones first
    assert [g.task for g in groups[1:]] == order[:first] and all(g.rewards == [0.5, 0.5] for g in groups[1:])
    # only all-equal groups left in this epoch: pulling stops at max_pulls with nothing to learn from
    groups, info = source.collect(tasks_per_step=1, version=0, async_steps=0, max_pulls=2)
    assert info["n_pulled"] == 2 and info["n_informative"] == 0 and len(groups) == 2
