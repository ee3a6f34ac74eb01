"""``tmax train CONFIG``: the RL loop around ``train_step``.

    load tasks; the trainer: model (fp32 head), rollout engine, group runner
        (make_trainer: tmax.rl.trainer.LocalTrainer in one process, or
         tmax.cluster.train.RayTrainer; tmax.cluster.TRAINERS picks by cluster.backend)
    resume from the newest checkpoint if the run dir has one
    for each step:
        groups <- rollouts.collect(...)        async: sampled while the previous steps trained
        metrics <- trainer.step(groups)        train_step, on every FSDP rank under Ray
        engines <- trainer weights (policy version + 1)
        metrics += evaluate(step, trainer)     optional hook, e.g. held-out evaluation every k steps
        log metrics (JSONL, TensorBoard when installed, tracking), checkpoint every k steps
    the final policy (weights + tokenizer) -> <run_dir>/model

Every run saves its resolved config as ``<run_dir>/config.json``; a resumed run must use the
same one, except for ``[cluster]``: a run may resume on another number of nodes or
processes. Metrics lines after the resumed checkpoint are dropped, so ``metrics.jsonl`` has
one line per step.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from tmax.rl.config import TrainConfig
from tmax.rl.trainer import Trainer


def _writer(run_dir: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is optional; metrics.jsonl has everything
        return None
    return SummaryWriter(str(run_dir / "tensorboard"))


def train(cfg: TrainConfig, make_trainer: Callable[[TrainConfig], Trainer], *,
          on_step: Callable[[dict, int], None] | None = None,
          evaluate: Callable[[int, Trainer], dict] | None = None) -> Path:
    """Run (or resume) RL training with the trainer ``make_trainer(cfg)`` builds (after seeding);
    returns the run dir. ``on_step(metrics, n_steps_total)`` after each step, as in SFT.
    ``evaluate(step, trainer)`` runs after each step once the engines have the new policy
    (``trainer.save_model`` gives it as a model dir); the metrics it returns (``{}`` when it
    has nothing to say at this step) join the step's line in ``metrics.jsonl``."""
    import random

    import torch

    from tmax.rl.rollouts import RolloutSource
    from tmax.tasks import load_task, resolve_task_dirs
    from tmax.training.tracking import open_tracker

    run_dir = Path(cfg.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    tasks = [load_task(p) for p in resolve_task_dirs(cfg.tasks)]
    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    trainer = make_trainer(cfg)
    source = None
    writer = _writer(run_dir)
    tracker = open_tracker(cfg.tracking, run_dir, cfg.model_dump(mode="json"))
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
            if evaluate:
                metrics.update(evaluate(step + 1, trainer))
            with open(run_dir / "metrics.jsonl", "a") as f:
                f.write(json.dumps(metrics) + "\n")
            if writer:
                for key, value in metrics.items():
                    writer.add_scalar(f"train/{key}", value, step + 1)
            tracker.log({f"rl/{k}": v for k, v in metrics.items()}, step + 1)
            if (step + 1) % cfg.checkpoint_every == 0 or step + 1 == cfg.steps:
                trainer.save(step + 1, {"cursor": source.consumed})
            if on_step:
                on_step(metrics, cfg.steps)
        if not (run_dir / "model" / "config.json").exists() or state["step"] < cfg.steps:
            trainer.save_model(run_dir / "model")  # the trained policy, loadable for eval
    finally:
        if source:
            source.close()
        trainer.close()
        tracker.close()
        if writer:
            writer.close()
    return run_dir
