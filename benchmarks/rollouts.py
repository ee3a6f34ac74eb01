"""Rollout throughput with 1 vs 2 Ray rollout workers, sandbox-bound (issue: scale-out).

Each episode is a real bwrap sandbox driven through the harness by a scripted policy: an
engine that answers every turn with the same tool call (``sleep S`` then a small command:
a stand-in for the waits of real terminal work such as installs, builds and test runs), until
the tool-call limit ends the episode and the task's verifier scores it. The policy costs
next to nothing, so throughput is bound by sandbox slots: each worker owns a pool of
``--sandboxes`` of them (the per-node limit).

Measured in one run, same tasks, same number of groups:
    local     LocalGroups in this process, one pool of --sandboxes (no Ray: the baseline)
    ray x1    one RolloutWorker actor with a pool of --sandboxes
    ray x2    two RolloutWorker actors, each with a pool of --sandboxes
On one machine the two workers share its cores: the ratio says that pools add up and what
dispatch through Ray costs, not how a second node scales (that adds its own cores).

Usage: .venv/bin/python benchmarks/rollouts.py [--groups 16] [--group-size 4] [--sandboxes 4]
                                               [--sleep 1.0] [--calls 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import functools
import json
import tempfile
import time
from pathlib import Path

from tmax.engines.base import Sample
from tmax.harness.policy import qwen3_xml_call

ROOT = Path(__file__).resolve().parents[1]
TASKS = [ROOT / "examples" / "tasks" / "log-grep", ROOT / "examples" / "tasks" / "csv-summary"]


class LoopEngine:
    """The scripted policy's engine: the same reply (token ids) to every prompt."""

    def __init__(self, reply: list[int]):
        self.reply = reply

    def generate(self, prompts, params):
        return [Sample(list(self.reply), [-0.1] * len(self.reply), "", "stop", len(p)) for p in prompts]

    def load_weights(self, weights, version):
        pass


def _config(model_dir, run_dir, args) -> dict:
    from tmax.rl.config import TrainConfig

    return TrainConfig.model_validate({
        "model": str(model_dir), "tasks": [str(t) for t in TASKS], "run_dir": str(run_dir),
        "group_size": args.group_size, "sandbox": "bwrap", "sampling": {"max_tokens": 256},
        "harness": {"max_tool_calls": args.calls},
        "cluster": {"backend": "ray", "sandboxes_per_worker": args.sandboxes, "torch_threads": 1},
    }).model_dump(mode="json")


def _collect(runner, tasks, n_groups: int) -> tuple[float, int, int]:
    from tmax.rl.rollouts import RolloutSource

    start = time.monotonic()
    source = RolloutSource(tasks, runner, lambda: 0, seed=0, prefetch=n_groups)
    try:
        groups, info = source.collect(n_groups, 0, 0, n_groups)
    finally:
        source.close()
    seconds = time.monotonic() - start
    episodes = sum(len(g.records) for g in groups)
    failed = sum(r is None for g in groups for r in g.records)
    assert info["n_pulled"] == n_groups, info
    return seconds, episodes, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=16)
    parser.add_argument("--group-size", type=int, default=4)
    parser.add_argument("--sandboxes", type=int, default=4, help="sandboxes per worker (the per-node limit)")
    parser.add_argument("--sleep", type=float, default=1.0, help="seconds each scripted command waits")
    parser.add_argument("--calls", type=int, default=3, help="tool calls per episode")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    import ray
    from transformers import AutoTokenizer

    from tmax.cluster.actors import EngineActor, RolloutWorker
    from tmax.cluster.train import RayGroups
    from tmax.engines.batching import Batcher
    from tmax.engines.chat import ChatRenderer
    from tmax.engines.token_policy import TokenPolicy
    from tmax.engines.tiny import ensure_tiny_model
    from tmax.rl.config import TrainConfig
    from tmax.rl.rollouts import LocalGroups
    from tmax.tasks import load_task

    model_dir = ensure_tiny_model()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    command = f"sleep {args.sleep}; wc -l /app/* | tail -1"
    reply = tokenizer(qwen3_xml_call(command) + "<|im_end|>", add_special_tokens=False)["input_ids"]
    tasks = [load_task(t) for t in TASKS]
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="tmax-bench-rollouts-") as tmp:
        cfg = TrainConfig.model_validate(_config(model_dir, Path(tmp) / "local", args))
        batcher = Batcher(LoopEngine(reply))
        renderer = ChatRenderer(tokenizer)
        local = lambda: LocalGroups(  # noqa: E731  (closed with each collection)
            lambda: TokenPolicy(batcher, renderer, cfg.sampling, max_context_tokens=8192),
            cfg.run_dir, group_size=args.group_size, concurrency=args.sandboxes, harness=cfg.harness)
        _collect(local(), tasks, 1)  # warm-up: the rootfs and the environment cache
        seconds, episodes, failed = _collect(local(), tasks, args.groups)
        batcher.close()
        results["local"] = {"seconds": seconds, "episodes": episodes, "infra_failed": failed}

        ray.init(num_cpus=8, include_dashboard=False, log_to_driver=False, configure_logging=False)
        try:
            engine = ray.remote(EngineActor).options(num_cpus=1, max_concurrency=256).remote(
                functools.partial(LoopEngine, reply), 64, 1)
            for n_workers in (1, 2):
                config = _config(model_dir, Path(tmp) / f"ray{n_workers}", args)
                cls = ray.remote(RolloutWorker).options(num_cpus=1, max_concurrency=8)
                workers = [cls.remote(f"worker-{i}", engine, config) for i in range(n_workers)]
                slots = max(1, args.sandboxes // args.group_size)
                _collect(RayGroups(workers, slots), tasks, n_workers)  # warm-up: actor start, caches
                seconds, episodes, failed = _collect(RayGroups(workers, slots), tasks, args.groups)
                results[f"ray x{n_workers}"] = {"seconds": seconds, "episodes": episodes, "infra_failed": failed}
                ray.get([w.close.remote() for w in workers])
                for w in workers:
                    ray.kill(w)
        finally:
            ray.shutdown()

    base = results["ray x1"]["episodes"] / results["ray x1"]["seconds"]
    print(f"{args.groups} groups x {args.group_size} episodes, {args.calls} calls of `sleep {args.sleep}` each, "
          f"{args.sandboxes} sandboxes per worker (bwrap)")
    print(f"{'runner':<8} {'seconds':>8} {'episodes/s':>11} {'episodes/h':>11} {'vs ray x1':>10} {'infra failed':>13}")
    for name, r in results.items():
        rate = r["episodes"] / r["seconds"]
        r.update(episodes_per_s=rate, ratio_vs_ray_x1=rate / base)
        print(f"{name:<8} {r['seconds']:8.1f} {rate:11.2f} {rate * 3600:11.0f} {rate / base:9.2f}x {r['infra_failed']:13d}")
    if args.json:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)}, "results": results}, indent=2))


if __name__ == "__main__":
    main()
