"""One DPPO training step, top to bottom.

    groups of rollouts (G episodes of one task each, already sampled and scored)
      1. advantages   A = r - mean(group)                   (``centered``; invalid rollouts: no A)
      2. filter       drop groups whose valid rewards are all equal (no gradient)
      3. pack         rollouts -> rows of <= ``micro_batch_tokens`` tokens, positions reset
      4. logprobs     trainer log pi of every sampled token, fp32 chunked LM head, temperature T
      5. loss         DPPO-TV per token against the engine's mu (``tmax.rl.losses``), summed over
                      every response token of the step and divided by their count, micro-batch
                      by micro-batch (the same gradient as one big batch)
      6. update       clip the gradient norm, optimizer step (constant lr)

Sharded (``world`` > 1, an FSDP2 model from ``tmax.training.sharding.shard``): every rank packs the
same micro-batches, runs its share of them (dummy ones with loss x 0 to keep collectives in
step) and FSDP sums the gradients, so the update equals the one-process one.

What it leaves out, on purpose: no KL penalty (beta 0), no reference model, no old-policy
forward pass (the anchor is the engine's own mu), no reward or advantage normalisation by std.
Sampling, staleness and active sampling happen before the step (``tmax.rl.rollouts``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from pydantic import BaseModel, ConfigDict, Field

from tmax.engines.chat import TokenRecord
from tmax.rl.advantages import compute_advantages, filter_groups
from tmax.training.logprobs import sequence_logprobs
from tmax.rl.losses import LOSSES, aggregate
from tmax.training.packing import Sequence, pack, pack_stats
from tmax.training.sharding import all_reduce_sum, split_batches


class StepConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    loss: str = Field("dppo_tv", description="dppo_tv | dppo_kl | ppo_clip")
    delta: float = Field(0.1, gt=0, description="DPPO trust region (total variation for dppo_tv).")
    advantage: str = Field("centered", description="centered | standard | maxrl")
    temperature: float = Field(1.0, gt=0, description="Sampling temperature (the trainer divides logits by it too).")
    micro_batch_tokens: int = Field(8192, gt=0, description="Tokens per packed row (one forward/backward).")
    max_grad_norm: float = Field(1.0, gt=0, description="Gradient clipping.")
    lm_head_chunk: int = Field(1024, gt=0, description="Tokens per chunk of the LM-head logprob computation.")


@dataclass
class Group:
    """G episodes of one task: their token records (None for an infra failure) and rewards."""

    task: str
    records: list[TokenRecord | None]
    rewards: list[float | None]
    versions: list[int | None]


def train_step(model, optimizer, groups: list[Group], cfg: StepConfig, *, rank: int = 0, world: int = 1) -> dict:
    """Steps 1-6 above on ``groups`` (this rank's share of them when ``world`` > 1); returns
    the step's metrics, summed over ranks."""
    started = time.monotonic()
    rewards = [g.rewards for g in groups]
    advantages, valid = compute_advantages(rewards, cfg.advantage)            # [n_groups, G]
    keep = filter_groups(rewards)                                             # [n_groups]
    rollouts = [Sequence.from_record(record, float(advantages[i, j]), version=g.versions[j])
                for i, g in enumerate(groups) if keep[i]
                for j, record in enumerate(g.records) if record is not None and valid[i, j]]
    batches = pack(rollouts, cfg.micro_batch_tokens)
    packing = pack_stats(batches, len(rollouts), cfg.micro_batch_tokens)
    n_tokens = packing["n_response_tokens"]
    loss_fn = LOSSES[cfg.loss]
    hyper = {"delta": cfg.delta} if cfg.loss.startswith("dppo") else {}
    totals = {"loss": 0.0, "masked_frac": 0.0, "abs_log_ratio": 0.0, "entropy": 0.0}
    mine, n_calls = split_batches(batches, rank, world)
    model.train()
    for call in range(n_calls):
        real = call < len(mine)
        batch = mine[call] if real else min(batches, key=lambda b: b.n_tokens)  # a dummy: loss x 0
        logp, entropy = sequence_logprobs(model, batch, cfg.temperature, cfg.lm_head_chunk)   # [1, L]
        mask = batch.loss_mask.to(logp.device)
        per_token, stats = loss_fn(logp, batch.logp_old.to(logp.device), batch.advantages.to(logp.device),
                                   mask, **hyper)
        loss = aggregate(per_token, mask, n_tokens)
        (loss if real else loss * 0.0).backward()
        if not real:
            continue
        weight = batch.n_response_tokens / max(n_tokens, 1)  # per-call means -> token-weighted means
        totals["loss"] += float(loss.detach())
        totals["masked_frac"] += float(stats["masked_frac"]) * weight
        totals["abs_log_ratio"] += float(stats["abs_log_ratio"]) * weight
        totals["entropy"] += float((entropy * mask).sum()) / max(n_tokens, 1)
    totals = dict(zip(totals, all_reduce_sum(list(totals.values()))))
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm) if batches else torch.tensor(0.0)
    if hasattr(grad_norm, "full_tensor"):  # a DTensor under FSDP
        grad_norm = grad_norm.full_tensor()
    if batches:
        optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    flat = [r for g in groups for r in g.rewards]
    scored = [r for r in flat if r is not None]
    return {**totals, "grad_norm": float(grad_norm), "reward": sum(scored) / max(len(scored), 1),
            "solve_rate": sum(r >= 1.0 for r in scored) / max(len(scored), 1),
            "n_groups": len(groups), "n_groups_kept": int(keep.sum()), "n_rollouts": len(flat),
            "n_infra_failed": len(flat) - len(scored), "n_response_tokens": n_tokens,
            "n_tokens": packing["n_tokens"], "n_micro_batches": len(batches),
            "tokens_per_s": packing["n_tokens"] / max(time.monotonic() - started, 1e-9)}
