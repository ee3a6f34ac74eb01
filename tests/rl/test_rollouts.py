"""RolloutSource on the tiny model in real bwrap sandboxes: with room for two groups, two
groups sample at once, each complete, the cursor counting every task handed out."""

from __future__ import annotations

import json
from datetime import datetime

from tmax.engines.base import SamplingParams
from tmax.harness.loop import HarnessConfig


def _span(trial_dir) -> tuple[datetime, datetime]:
    result = json.loads((trial_dir / "result.json").read_text())
    return datetime.fromisoformat(result["started_at"]), datetime.fromisoformat(result["finished_at"])


def test_two_groups_sample_at_once(rootfs, tiny_model_dir, tmp_path):
    from tmax.engines.batching import Batcher
    from tmax.engines.chat import ChatRenderer
    from tmax.engines.hf import HFEngine, load_model
    from tmax.engines.token_policy import TokenPolicy
    from tmax.envgen.starter import split
    from tmax.rl.rollouts import LocalGroups, RolloutSource
    from tmax.tasks import load_task

    train_dir, _ = split(tmp_path / "tasks", 4, 1, seed=0)
    tasks = [load_task(p) for p in sorted(train_dir.iterdir())]
    model, tokenizer = load_model(tiny_model_dir, dtype="float32")
    engine = HFEngine(model, tokenizer)
    batcher, renderer = Batcher(engine), ChatRenderer(tokenizer)
    sampling = SamplingParams(temperature=1.0, max_tokens=8)
    runner = LocalGroups(lambda: TokenPolicy(batcher, renderer, sampling, max_context_tokens=2048),
                         tmp_path / "run", group_size=2, concurrency=4,
                         harness=HarnessConfig(max_tool_calls=2, max_format_errors=1))
    source = RolloutSource(tasks, runner, lambda: engine.version, seed=3)
    try:
        assert source.groups_in_flight == 2
        groups, info = source.collect(tasks_per_step=100, version=0, async_steps=0, max_pulls=3)
    finally:
        source.close()
        batcher.close()
    assert info["n_pulled"] == 3 and info["n_stale"] == 0
    assert sorted(g.task for g in groups) == sorted(source._task(i).name for i in range(3))
    assert all(len(g.rewards) == 2 for g in groups)
    # the first two groups' episodes overlapped in time: they were sampled together
    spans = {i: [_span(d) for d in (tmp_path / "run" / "rollouts").glob(f"*__t{i}g*")] for i in (0, 1)}
    assert all(len(s) == 2 for s in spans.values())
    assert min(start for start, _ in spans[1]) < max(end for _, end in spans[0])
