"""Harness and evaluation figures (issue: harness, engines, evaluation), measured in one run.

1. Harness overhead per step, excluding model and command time: one long episode of `true`
   commands in a real bwrap sandbox; the policy's and the sandbox's time are measured around
   their calls and subtracted from the wall time. Two policies: ScriptedPolicy (text replies)
   and TokenPolicy over a ScriptedEngine (token records; chat-template rendering of each tool
   response counts as harness overhead, the engine's time does not). Baseline in the same run:
   the bare `sandbox.exec("true")` round trip.
2. `tmax eval` of N oracle trials over the example tasks at concurrency 4 vs 1 (same backend).

Usage: .venv/bin/python benchmarks/harness.py [--steps 300] [--trials 50] [--sandbox podman] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tmax.harness.loop import HarnessConfig, run_episode
from tmax.harness.policy import ScriptedPolicy, qwen3_xml_call
from tmax.sandbox.base import SandboxSpec
from tmax.sandbox.bwrap import BwrapSandbox
from tmax.sandbox.images import base_rootfs

ROOT = Path(__file__).resolve().parents[1]


class Timed:
    """Wraps a policy or sandbox and adds up the seconds spent inside one method."""

    def __init__(self, inner, method: str):
        self.inner, self.method, self.seconds = inner, method, 0.0

    def __getattr__(self, name):
        value = getattr(self.inner, name)
        if name != self.method:
            return value

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return value(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
        return timed


def overhead_ms(make_policy, steps: int) -> float:
    """Per-step wall time minus the model's and the command's time. A policy with an ``engine``
    has only the engine call excluded (its rendering is tmax's cost); others the whole call."""
    with BwrapSandbox(base_rootfs(), SandboxSpec(memory_mb=512)) as box:
        policy = make_policy()
        if hasattr(policy, "engine"):
            model = policy.engine = Timed(policy.engine, "generate")
        else:
            model = policy = Timed(policy, "generate")
        sandbox = Timed(box, "exec")
        config = HarnessConfig(max_tool_calls=steps + 1)
        start = time.perf_counter()
        episode = run_episode(policy, sandbox, "benchmark", config=config)
        wall = time.perf_counter() - start
        assert episode.exit_reason == "submitted" and episode.n_tool_calls == steps, episode.exit_reason
    return (wall - model.seconds - sandbox.seconds) / (steps + 1) * 1000


def exec_round_trip_ms(n: int) -> float:
    with BwrapSandbox(base_rootfs(), SandboxSpec(memory_mb=512)) as box:
        times = []
        for _ in range(n):
            start = time.perf_counter()
            box.exec("true")
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def token_policy_factory(steps: int):
    from transformers import AutoTokenizer

    from tmax.engines.chat import ChatRenderer
    from tmax.engines.token_policy import ScriptedEngine, TokenPolicy
    from tmax.engines.tiny import ensure_tiny_model

    tokenizer = AutoTokenizer.from_pretrained(ensure_tiny_model())
    eot = tokenizer.convert_tokens_to_ids("<|im_end|>")
    replies = [tokenizer(qwen3_xml_call("true"), add_special_tokens=False)["input_ids"] + [eot]] * steps
    replies.append(tokenizer(qwen3_xml_call("echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"),
                             add_special_tokens=False)["input_ids"] + [eot])
    renderer = ChatRenderer(tokenizer)
    return lambda: TokenPolicy(ScriptedEngine(replies), renderer)


def eval_seconds(trials: int, concurrency: int, sandbox: str) -> float:
    from tmax.eval.job import EvalConfig, run_eval

    tasks = sorted(str(p) for p in (ROOT / "examples" / "tasks").iterdir() if p.is_dir())
    runs = -(-trials // len(tasks))
    with tempfile.TemporaryDirectory() as jobs:
        cfg = EvalConfig(tasks=tasks, agent="oracle", sandbox=sandbox, runs=runs, concurrency=concurrency,
                         jobs_dir=jobs, job_name="bench")
        start = time.perf_counter()
        run_eval(cfg)
        elapsed = time.perf_counter() - start
        rewards = [json.loads(p.read_text())["reward"] for p in Path(jobs, "bench").glob("*/result.json")]
    assert len(rewards) == runs * len(tasks) and all(r == 1.0 for r in rewards), rewards
    return elapsed / (runs * len(tasks)) * trials  # scaled to exactly `trials`


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--sandbox", default="podman")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    steps = args.steps
    figures = {"exec_round_trip_ms": exec_round_trip_ms(500)}
    runs = [overhead_ms(lambda: ScriptedPolicy(["true"] * steps), steps) for _ in range(3)]
    figures["overhead_text_ms"] = statistics.median(runs)
    make = token_policy_factory(steps)
    runs = [overhead_ms(make, steps) for _ in range(3)]
    figures["overhead_token_ms"] = statistics.median(runs)
    print(f"bare sandbox.exec('true') round trip p50: {figures['exec_round_trip_ms']:.3f} ms (baseline)")
    for key, label in (("overhead_text_ms", "text policy"), ("overhead_token_ms", "token policy")):
        ratio = figures[key] / figures["exec_round_trip_ms"]
        print(f"harness overhead per step, {label}: {figures[key]:.3f} ms "
              f"({ratio:.2f}x the bare exec; target <= 2 ms: {'met' if figures[key] <= 2 else 'MISSED'})")
    if args.trials:
        for c in (4, 1):
            figures[f"eval_{args.trials}_c{c}_s"] = eval_seconds(args.trials, c, args.sandbox)
        c4, c1 = figures[f"eval_{args.trials}_c4_s"], figures[f"eval_{args.trials}_c1_s"]
        print(f"eval of {args.trials} oracle trials on {args.sandbox}: concurrency 4 {c4:.1f} s, "
              f"concurrency 1 {c1:.1f} s ({c1 / c4:.2f}x speed-up)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
