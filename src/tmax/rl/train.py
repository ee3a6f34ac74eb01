"""``tmax train CONFIG``: the RL loop around ``train_step``.

    load tasks, the trainer model (fp32 head) and a rollout engine (its own copy of the weights)
    resume from the newest checkpoint if the run dir has one
    for each step:
        groups <- rollouts.collect(...)        async: sampled while the previous steps trained
        metrics <- train_step(model, optimizer, groups)
        engine <- trainer weights (policy version + 1)
        log metrics (JSONL, TensorBoard when installed), checkpoint every k steps
    the final policy (weights + tokenizer) -> <run_dir>/model

Every run saves its resolved config as ``<run_dir>/config.json``; a resumed run must use the
same one. Metrics lines after the resumed checkpoint are dropped, so ``metrics.jsonl`` has one
line per step.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from tmax.engines.base import SamplingParams
from tmax.harness.loop import HarnessConfig
from tmax.rl.step import StepConfig


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(description="Transformers model dir to start from (e.g. an SFT checkpoint).")
    tasks: list[str] = Field(description="Training tasks: dirs, folders, globs or dataset files.")
    run_dir: str = Field("runs/rl", description="Where checkpoints, metrics and rollouts go; reuse to resume.")
    steps: int = Field(100, gt=0, description="Optimizer steps.")
    group_size: int = Field(32, gt=1, description="Episodes per task (GRPO group).")
    tasks_per_step: int = Field(8, gt=0, description="Informative groups per step.")
    max_pulls: int = Field(32, gt=0, description="Most groups looked at per step (active sampling bound).")
    async_steps: int = Field(4, ge=0, description="Most policy versions a rollout may lag; staler ones are dropped.")
    lr: float = Field(1e-6, gt=0, description="Constant learning rate (AdamW, no weight decay).")
    seed: int = Field(0, description="Task order and initial RNG seed.")
    sandbox: str = Field("bwrap", description="Sandbox backend for rollouts.")
    rollout_concurrency: int = Field(8, gt=0, description="Episodes in flight at once.")
    checkpoint_every: int = Field(10, gt=0, description="Steps between checkpoints.")
    keep_checkpoints: int = Field(2, gt=0, description="Checkpoints kept.")
    device: str = Field("cpu", description="torch device of the trainer and the engine.")
    max_context_tokens: int = Field(65536, gt=0, description="Episode context budget.")
    sampling: SamplingParams = Field(default_factory=lambda: SamplingParams(temperature=1.0, max_tokens=1024))
    step: StepConfig = Field(default_factory=StepConfig)
    harness: HarnessConfig = Field(default_factory=HarnessConfig)


def _load(cfg: TrainConfig):
    import torch

    from tmax.engines.hf import HFEngine, load_model, upcast_lm_head

    model, tokenizer = load_model(cfg.model, device=cfg.device, dtype="float32")
    upcast_lm_head(model)  # no-op in fp32; keeps the recipe's fp32 head when the body is bf16
    engine_model, _ = load_model(cfg.model, device=cfg.device, dtype="float32")
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.0)
    return model, optimizer, HFEngine(engine_model, tokenizer, device=cfg.device), tokenizer


def _writer(run_dir: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is optional; metrics.jsonl has everything
        return None
    return SummaryWriter(str(run_dir / "tensorboard"))


def train(cfg: TrainConfig, *, on_step=None) -> Path:
    """Run (or resume) RL training; returns the run dir. ``on_step(metrics)`` after each step."""
    import random

    import torch

    from tmax.engines.batching import Batcher
    from tmax.engines.chat import ChatRenderer
    from tmax.engines.hf import save_model
    from tmax.engines.policy import TokenPolicy
    from tmax.eval.job import resolve_task_dirs
    from tmax.rl import checkpoint
    from tmax.rl.rollouts import RolloutSource
    from tmax.rl.step import train_step
    from tmax.tasks import load_task

    run_dir = Path(cfg.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    tasks = [load_task(p) for p in resolve_task_dirs(cfg.tasks)]
    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    model, optimizer, engine, tokenizer = _load(cfg)
    state = checkpoint.resume_run(run_dir, cfg.model_dump(mode="json"), model, optimizer,
                                  {"step": 0, "cursor": 0})
    engine.load_weights(model.state_dict(), version=state["step"])
    batcher, renderer = Batcher(engine), ChatRenderer(tokenizer)
    new_policy = lambda: TokenPolicy(batcher, renderer, cfg.sampling, max_context_tokens=cfg.max_context_tokens)  # noqa: E731
    source = RolloutSource(tasks, new_policy, engine, run_dir, group_size=cfg.group_size, seed=cfg.seed,
                           sandbox=cfg.sandbox, concurrency=cfg.rollout_concurrency, cursor=state["cursor"],
                           harness=cfg.harness)
    writer = _writer(run_dir)
    try:
        for step in range(state["step"], cfg.steps):
            started = time.monotonic()
            groups, info = source.collect(cfg.tasks_per_step, step, cfg.async_steps, cfg.max_pulls)
            waited = time.monotonic() - started
            metrics = {"step": step + 1, **train_step(model, optimizer, groups, cfg.step), **info,
                       "rollout_wait_s": waited, "step_s": time.monotonic() - started}
            engine.load_weights(model.state_dict(), version=step + 1)
            with open(run_dir / "metrics.jsonl", "a") as f:
                f.write(json.dumps(metrics) + "\n")
            if writer:
                for key, value in metrics.items():
                    writer.add_scalar(f"train/{key}", value, step + 1)
            if (step + 1) % cfg.checkpoint_every == 0 or step + 1 == cfg.steps:
                checkpoint.save(run_dir, step + 1, model, optimizer, {"cursor": source.consumed},
                                keep=cfg.keep_checkpoints)
            if on_step:
                on_step(metrics)
        if not (run_dir / "model" / "config.json").exists() or state["step"] < cfg.steps:
            save_model(model, tokenizer, run_dir / "model")  # the trained policy, loadable for eval
    finally:
        source.close()
        batcher.close()
        if writer:
            writer.close()
    return run_dir
