"""Training-step throughput: tmax's DPPO step vs a plain cross-entropy step, same packed batch.

Both variants run forward + backward + optimizer step on the same rows of packed rollouts
(positions reset per sequence, block-diagonal attention), on the same model:

- ``ce``:   ``model(...)`` returns full logits; cross-entropy of the response tokens; backward.
            The cheapest thing a trainer can do with this batch (SFT-style), the baseline.
- ``dppo``: what ``tmax.rl.step.train_step`` does per micro-batch: the body, the chunked fp32
            LM-head logprobs of the response tokens (``tmax.training.logprobs``), the DPPO-TV loss
            against the rollout engine's logprobs, token-level aggregation, backward.

Printed: tokens/s of each (median of --reps timed steps after --warmup), and the DPPO overhead
= ce_tokens_per_s / dppo_tokens_per_s - 1 (target <= 10%). With a CUDA device it also prints
the MFU of the DPPO step: 6 x (non-embedding parameters + LM head) x tokens / s over the
GPU's peak dense bf16 FLOP/s (--peak-tflops, default 989 = H100 SXM).

Usage: .venv/bin/python benchmarks/train.py                               # CPU, small model
       .venv/bin/python benchmarks/train.py --preset 0.5b --device cuda --dtype bfloat16
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from tmax.rl.losses import aggregate, dppo_tv
from tmax.training.logprobs import _attention_kwargs, sequence_logprobs
from tmax.training.packing import Sequence, pack
from tmax.engines.chat import TokenRecord

PRESETS = {  # Qwen3 configs
    "cpu": dict(hidden_size=512, intermediate_size=1536, num_hidden_layers=4, num_attention_heads=8,
                num_key_value_heads=4, head_dim=64, vocab_size=32000),
    "0.5b": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
                 num_key_value_heads=2, head_dim=64, vocab_size=151936),
}


def build(preset: str, device: str, dtype: str):
    from transformers import Qwen3Config, Qwen3ForCausalLM

    torch.manual_seed(0)
    config = Qwen3Config(**PRESETS[preset], max_position_embeddings=32768, tie_word_embeddings=False,
                         attn_implementation="sdpa")
    model = Qwen3ForCausalLM(config).to(device=device, dtype=getattr(torch, dtype))
    model.lm_head.float()  # the recipe's fp32 LM head
    return model


def batch(vocab: int, n_seqs: int, seq_len: int, row_tokens: int, seed: int = 0):
    """Rollouts shaped like terminal episodes: a prompt, then replies (mask 1) and tool
    output (mask 0) in turns; engine logprobs near -1; advantages of both signs."""
    g = torch.Generator().manual_seed(seed)
    rollouts = []
    for i in range(n_seqs):
        record = TokenRecord()
        record.add_context(torch.randint(0, vocab, (seq_len // 4,), generator=g).tolist())
        while len(record.ids) < seq_len:
            reply = torch.randint(0, vocab, (96,), generator=g).tolist()
            record.add_sampled(reply, (-torch.rand(96, generator=g) * 2).tolist())
            record.add_context(torch.randint(0, vocab, (160,), generator=g).tolist())
        rollouts.append(Sequence.from_record(record, 1.0 if i % 2 else -1.0))
    return pack(rollouts, row_tokens)


def ce_step(model, rows) -> int:
    n = sum(r.n_response_tokens for r in rows)
    for row in rows:
        row = row.to(next(model.parameters()).device)
        logits = model(input_ids=row.input_ids, position_ids=row.position_ids, use_cache=False,
                       **_attention_kwargs(model, row)).logits.float()                  # [1, L, V]
        ce = torch.nn.functional.cross_entropy(logits[0], row.targets[0], reduction="none")
        ((ce * row.loss_mask[0]).sum() / n).backward()
    return sum(r.n_tokens for r in rows)


def dppo_step(model, rows) -> int:
    n = sum(r.n_response_tokens for r in rows)
    for row in rows:
        logp, _ = sequence_logprobs(model, row, 1.0, 4096)                               # [1, L]
        row = row.to(logp.device)
        per_token, _ = dppo_tv(logp, row.logp_old, row.advantages, row.loss_mask, delta=0.1)
        aggregate(per_token, row.loss_mask, n).backward()
    return sum(r.n_tokens for r in rows)


def timed(fn, model, optimizer, rows, warmup: int, reps: int, device: str) -> float:
    speeds = []
    for i in range(warmup + reps):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        tokens = fn(model, rows)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if device == "cuda":
            torch.cuda.synchronize()
        if i >= warmup:
            speeds.append(tokens / (time.perf_counter() - start))
    return statistics.median(speeds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=list(PRESETS), default="cpu")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--seqs", type=int, default=8, help="Rollouts in the batch.")
    parser.add_argument("--seq-len", type=int, default=1024, help="Tokens per rollout.")
    parser.add_argument("--row-tokens", type=int, default=2048, help="Tokens per packed row.")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--peak-tflops", type=float, default=989.0)
    parser.add_argument("--json", help="Also write the figures to this file.")
    args = parser.parse_args()

    model = build(args.preset, args.device, args.dtype)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-6)
    rows = batch(model.config.vocab_size, args.seqs, args.seq_len, args.row_tokens)
    # alternate the two so drifts in machine load hit both alike
    ce, dppo = [], []
    for _ in range(2):
        ce.append(timed(ce_step, model, optimizer, rows, args.warmup, args.reps, args.device))
        dppo.append(timed(dppo_step, model, optimizer, rows, args.warmup, args.reps, args.device))
    ce_speed, dppo_speed = max(ce), max(dppo)
    result = {"preset": args.preset, "device": args.device, "dtype": args.dtype, "tokens_per_step":
              sum(r.n_tokens for r in rows), "ce_tokens_per_s": round(ce_speed, 1),
              "dppo_tokens_per_s": round(dppo_speed, 1), "dppo_overhead": round(ce_speed / dppo_speed - 1, 4)}
    if args.device == "cuda":
        body = sum(p.numel() for n, p in model.named_parameters() if "embed_tokens" not in n)
        result["mfu"] = round(6 * body * dppo_speed / (args.peak_tflops * 1e12), 4)
        result["gpu"] = torch.cuda.get_device_name()
    print(json.dumps(result, indent=2))
    print(f"DPPO step {dppo_speed:,.0f} tok/s vs plain CE {ce_speed:,.0f} tok/s: "
          f"overhead {100 * result['dppo_overhead']:+.1f}% (target <= +10%)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
