"""Weight sync per optimizer step: Ray object store vs broadcast, against an in-process copy.

After every step the engines must get the trainer's weights. Measured in one run, on one model
(a Qwen3 of --preset size, fp32), with ``--engines`` hf engine actors:

    in-process   ``HFEngine.load_weights(model.state_dict())``: what the one-process trainer
                 does (a memory copy; the baseline)
    object_store ``RayTrainer.sync``: rank 0 gathers the full state dict, puts it in Ray's
                 object store, every engine actor loads it
    broadcast    ``RayTrainer.sync`` with ``weight_sync = "broadcast"``: rank 0 sends each tensor
                 to the engines over a gloo process group (NCCL on GPUs)

Printed: median seconds per sync over --reps (after one warm-up), GB/s of weights delivered per
engine, and each ratio against the in-process copy. On one machine both Ray paths stay on
it; across nodes the network adds its own time.

Usage: .venv/bin/python benchmarks/weight_sync.py [--preset cpu] [--engines 2] [--reps 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

PRESETS = {  # Qwen3 configs (fp32)
    "cpu": dict(hidden_size=512, intermediate_size=1536, num_hidden_layers=4, num_attention_heads=8,
                num_key_value_heads=4, head_dim=64, vocab_size=32000),
    "0.5b": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
                 num_key_value_heads=2, head_dim=64, vocab_size=151936),
}


def _median_s(fn, reps: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=PRESETS, default="cpu")
    parser.add_argument("--engines", type=int, default=2)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from transformers import AutoTokenizer, Qwen3Config, Qwen3ForCausalLM

    from tmax.cluster.train import RayTrainer
    from tmax.engines.hf import HFEngine
    from tmax.engines.tiny import ensure_tiny_model
    from tmax.rl.config import TrainConfig

    results = {}
    with tempfile.TemporaryDirectory(prefix="tmax-bench-sync-") as tmp:
        model_dir = Path(tmp) / "model"
        torch.manual_seed(0)
        model = Qwen3ForCausalLM(Qwen3Config(**PRESETS[args.preset], tie_word_embeddings=False))
        model.save_pretrained(model_dir)
        AutoTokenizer.from_pretrained(ensure_tiny_model()).save_pretrained(model_dir)  # any tokenizer will do
        n_bytes = sum(t.numel() * t.element_size() for t in model.state_dict().values())

        engine = HFEngine.from_pretrained(model_dir, dtype="float32")
        weights = model.state_dict()
        results["in-process"] = _median_s(lambda: engine.load_weights(weights, 1), args.reps)
        del engine

        for mode in ("object_store", "broadcast"):
            cfg = TrainConfig.model_validate({
                "model": str(model_dir), "tasks": [], "run_dir": str(Path(tmp) / mode),
                "cluster": {"backend": "ray", "num_cpus": 8, "engines": args.engines, "rollout_workers": 1,
                            "weight_sync": mode, "torch_threads": 1}})
            trainer = RayTrainer(cfg)
            try:
                version = iter(range(1, 1000))
                results[mode] = _median_s(lambda: trainer.sync(next(version)), args.reps)
                sums = trainer.engine_checksums()
            finally:
                trainer.close()
            expected = float(sum(p.double().sum() for p in model.state_dict().values()))
            assert all(abs(s - expected) <= 1e-6 * abs(expected) for s in sums), (mode, sums, expected)

    base = results["in-process"]
    print(f"{args.preset}: {n_bytes / 1e6:.0f} MB of fp32 weights, {args.engines} engine actors, "
          f"median of {args.reps} syncs")
    print(f"{'sync':<13} {'seconds':>8} {'GB/s per engine':>16} {'vs in-process':>14}")
    for name, seconds in results.items():
        print(f"{name:<13} {seconds:8.3f} {n_bytes / 1e9 / seconds:16.2f} {seconds / base:13.1f}x")
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "bytes": n_bytes,
                                         "seconds": results}, indent=2))


if __name__ == "__main__":
    main()
