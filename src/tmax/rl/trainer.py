"""What the RL loop trains through: the ``Trainer`` protocol and ``LocalTrainer``.

A trainer holds the policy being trained, the rollout engines that sample from it and the
group runner that plays episodes with them. ``tmax.rl.train`` drives one step by step;
``LocalTrainer`` keeps everything in this process, ``tmax.cluster.train.RayTrainer`` spreads
it over Ray actors and FSDP ranks. ``tmax.cluster.TRAINERS`` names both
(``cluster.backend``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from tmax.rl.config import TrainConfig


class Trainer(Protocol):
    runner: object  # the group runner of ``tmax.rl.rollouts`` (``run_group``, ``groups_in_flight``, ``close``)

    def resume(self, config: dict, fresh: dict) -> dict:
        """The loop state of the newest checkpoint (weights and optimizer restored), else ``fresh``."""

    def version(self) -> int:
        """The policy version the engines sample from now."""

    def step(self, groups) -> dict:
        """One optimizer step on ``groups`` (``tmax.rl.step.train_step``); its metrics."""

    def sync(self, version: int) -> None:
        """Put the trained weights into every engine, as policy ``version``."""

    def save(self, step: int, state: dict) -> None:
        """A checkpoint of weights, optimizer and the loop ``state``."""

    def save_model(self, out_dir: Path) -> None:
        """The policy as a transformers dir (weights + tokenizer)."""

    def close(self) -> None:
        """Stop the engines and the runner's workers."""


class LocalTrainer:
    """The trainer model (fp32 head), the rollout engine (its own copy of the weights) and the
    group runner, all in this process. ``tmax.cluster.train.RayTrainer`` has the same methods
    over Ray actors and FSDP ranks."""

    def __init__(self, cfg: TrainConfig):
        from tmax.engines.batching import Batcher
        from tmax.engines.hf import HFEngine, load_model
        from tmax.engines.token_policy import token_policies
        from tmax.rl.rollouts import LocalGroups
        from tmax.training.model import load_trainable

        self.cfg = cfg
        self.model, self.tokenizer, self.optimizer = load_trainable(
            cfg.model, device=cfg.device, lr=cfg.lr, gradient_checkpointing=cfg.gradient_checkpointing)
        if cfg.engine == "vllm":  # fp32, weights reloaded after every step (docs/vllm.md)
            from tmax.engines import load_engine

            self.engine = load_engine("vllm", cfg.model, dtype="float32", max_context_tokens=cfg.max_context_tokens,
                                      seed=cfg.seed)
        else:
            engine_model, _ = load_model(cfg.model, device=cfg.device, dtype="float32")
            self.engine = HFEngine(engine_model, self.tokenizer, device=cfg.device)
        self.batcher = Batcher(self.engine)
        budget = min(cfg.max_context_tokens, getattr(self.engine, "max_model_len", None) or cfg.max_context_tokens)
        new_policy = token_policies(self.batcher, self.tokenizer, cfg.sampling, max_context_tokens=budget)
        self.runner = LocalGroups(new_policy, cfg.run_dir, group_size=cfg.group_size, sandbox=cfg.sandbox,
                                  concurrency=cfg.rollout_concurrency, harness=cfg.harness)

    def resume(self, config: dict, fresh: dict) -> dict:
        from tmax.training import checkpoint

        return checkpoint.resume_run(Path(self.cfg.run_dir), config, self.model, self.optimizer, fresh)

    def version(self) -> int:
        return self.engine.version

    def step(self, groups) -> dict:
        from tmax.rl.step import train_step

        return train_step(self.model, self.optimizer, groups, self.cfg.step)

    def sync(self, version: int) -> None:
        self.engine.load_weights(self.model.state_dict(), version=version)

    def save(self, step: int, state: dict) -> None:
        from tmax.training import checkpoint

        checkpoint.save(Path(self.cfg.run_dir), step, self.model, self.optimizer, state, keep=self.cfg.keep_checkpoints)

    def save_model(self, out_dir: Path) -> None:
        from tmax.engines.hf import save_model

        save_model(self.model, self.tokenizer, out_dir)

    def close(self) -> None:
        self.batcher.close()
