"""``tmax sft CONFIG``: supervised warm start on successful trajectories.

    examples <- sft.data.collect(jobs)          reward >= min_reward, >= min_tool_calls calls
    records  <- to_record(example)             assistant tokens masked in, the rest context
    for each epoch (a seeded shuffle of the records):
        for each step (``examples_per_step`` records):
            pack into rows of <= micro_batch_tokens, positions reset per sequence
            loss = -sum(log p(assistant tokens)) / n assistant tokens of the step
            backward per row, clip, AdamW step (lr: warmup, then constant or cosine)
    the model + tokenizer -> <out>/model  (a transformers dir: eval it, or RL from it)

The same packing and chunked fp32 LM-head log-probabilities as the RL step
(``tmax.training.packing``, ``tmax.training.logprobs``), so SFT and RL see identical token streams.
Checkpoints are written at every epoch end (atomic; a rerun with the same config resumes
from the last one), the resolved config is saved as ``<out>/config.json``, one line per step
goes to ``<out>/metrics.jsonl``.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tmax.errors import ConfigError
from tmax.training.tracking import TrackingConfig


class SFTConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(description="Transformers model dir to start from.")
    jobs: list[str] = Field(description="Job dirs (tmax eval/run or Harbor) whose trials are the data.")
    out: str = Field("runs/sft", description="Run dir: checkpoints, metrics, and the trained model in out/model.")
    epochs: int = Field(3, gt=0, description="Passes over the kept trajectories.")
    lr: float = Field(1e-5, gt=0, description="Peak learning rate (AdamW, no weight decay).")
    lr_schedule: Literal["constant", "cosine"] = Field(
        "constant", description="constant, or cosine decay to 0 over the run (after warmup).")
    warmup_steps: int = Field(0, ge=0, description="Steps of linear warmup from 0 to lr.")
    examples_per_step: int = Field(16, gt=0, description="Trajectories per optimizer step.")
    min_reward: float = Field(1.0, description="Keep trials whose reward is at least this.")
    min_tool_calls: int = Field(5, ge=0, description="Keep trials with at least this many tool calls.")
    micro_batch_tokens: int = Field(8192, gt=0, description="Tokens per packed row (one forward/backward).")
    max_grad_norm: float = Field(1.0, gt=0, description="Gradient clipping.")
    lm_head_chunk: int = Field(1024, gt=0, description="Tokens per chunk of the LM-head computation.")
    seed: int = Field(0, description="Shuffle seed.")
    device: str = Field("cpu", description="torch device.")
    tracking: TrackingConfig = Field(default_factory=TrackingConfig,
                                     description="Experiment tracking beyond metrics.jsonl (tmax.training.tracking).")


def load_records(cfg: SFTConfig, tokenizer) -> list:
    from tmax.engines.chat import ChatRenderer
    from tmax.sft.data import collect, to_record

    missing = [j for j in cfg.jobs if not Path(j).is_dir()]
    if missing:
        raise ConfigError(f"job dir {missing[0]} does not exist", where="sft.jobs",
                          fix="run `tmax eval` (e.g. --agent stepwise) first, or fix the path")
    examples = collect([Path(j) for j in cfg.jobs], min_reward=cfg.min_reward, min_tool_calls=cfg.min_tool_calls)
    if not examples:
        raise ConfigError(f"no trajectory in {', '.join(cfg.jobs)} has reward >= {cfg.min_reward} and "
                          f">= {cfg.min_tool_calls} tool calls", where="sft.jobs",
                          fix="lower sft.min_tool_calls / sft.min_reward, or collect more trajectories")
    renderer = ChatRenderer(tokenizer)
    return [to_record(e, renderer) for e in examples]


def sft_step(model, optimizer, records: list, cfg: SFTConfig) -> dict:
    """One optimizer step of masked cross-entropy over ``records`` (token-level mean)."""
    import torch

    from tmax.training.logprobs import sequence_logprobs
    from tmax.training.packing import Sequence, pack

    started = time.monotonic()
    batches = pack([Sequence.from_record(r, 1.0) for r in records], cfg.micro_batch_tokens)
    n_tokens = sum(b.n_response_tokens for b in batches)
    total = 0.0
    model.train()
    for batch in batches:
        logp, _ = sequence_logprobs(model, batch, 1.0, cfg.lm_head_chunk)                    # [1, L]
        loss = -(logp * batch.loss_mask.to(logp.device)).sum() / max(n_tokens, 1)
        loss.backward()
        total += float(loss.detach())
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    n_all = sum(b.n_tokens for b in batches)
    return {"loss": total, "grad_norm": float(grad_norm), "n_response_tokens": n_tokens, "n_tokens": n_all,
            "tokens_per_s": n_all / max(time.monotonic() - started, 1e-9)}


def lr_at(cfg: SFTConfig, step: int, total: int) -> float:
    """Learning rate of optimizer step ``step`` (0-based) of ``total``: linear warmup over
    ``warmup_steps``, then constant or cosine decay to 0 at the last step."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    if cfg.lr_schedule == "constant":
        return cfg.lr
    progress = (step - cfg.warmup_steps) / max(total - cfg.warmup_steps, 1)
    return cfg.lr * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


def model_dir(cfg: SFTConfig) -> Path:
    return Path(cfg.out) / "model"


def train_sft(cfg: SFTConfig, *, on_step: Callable[[dict, int], None] | None = None) -> Path:
    """Run (or resume, or skip when finished) SFT; returns the trained model dir.
    ``on_step(metrics, n_steps_total)`` after each optimizer step."""
    import torch

    from tmax.engines.hf import save_model
    from tmax.training import checkpoint
    from tmax.training.model import load_trainable
    from tmax.training.tracking import open_tracker

    final, out = model_dir(cfg), Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    model, tokenizer, optimizer = load_trainable(cfg.model, device=cfg.device, lr=cfg.lr)
    state = checkpoint.resume_run(out, cfg.model_dump(mode="json"), model, optimizer, {"step": 0, "epoch": 0})
    if (out / "DONE").exists() and (final / "config.json").exists():
        return final
    records = load_records(cfg, tokenizer)
    tracker = open_tracker(cfg.tracking, out, cfg.model_dump(mode="json"))
    try:
        step = _epochs(cfg, model, optimizer, records, state, tracker, on_step)
    finally:
        tracker.close()
    save_model(model, tokenizer, final)
    (out / "DONE").write_text(f"{step} steps\n")
    return final


def _epochs(cfg: SFTConfig, model, optimizer, records: list, state: dict, tracker, on_step) -> int:
    from tmax.training import checkpoint

    out, step = Path(cfg.out), state["step"]
    per_epoch = -(-len(records) // cfg.examples_per_step)
    for epoch in range(state["epoch"], cfg.epochs):
        order = list(range(len(records)))
        random.Random(f"{cfg.seed}:{epoch}").shuffle(order)
        for i in range(0, len(order), cfg.examples_per_step):
            lr = lr_at(cfg, step, per_epoch * cfg.epochs)
            for group in optimizer.param_groups:
                group["lr"] = lr
            metrics = sft_step(model, optimizer, [records[j] for j in order[i:i + cfg.examples_per_step]], cfg)
            step += 1
            metrics = {"step": step, "epoch": epoch + 1, "n_examples": len(records), "lr": lr, **metrics}
            with open(out / "metrics.jsonl", "a") as f:
                f.write(json.dumps(metrics) + "\n")
            tracker.log({f"sft/{k}": v for k, v in metrics.items()}, step)
            if on_step:
                on_step(metrics, per_epoch * cfg.epochs)
        checkpoint.save(out, step, model, optimizer, {"epoch": epoch + 1}, keep=1)
    return step
