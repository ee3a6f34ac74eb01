"""The three Ray actors of a cluster run, as plain classes (``ray.remote`` wraps them at start).

- ``EngineActor``: one copy of the policy serving ``generate`` to every rollout worker
  (concurrent calls merged into engine batches); ``load_weights`` takes the trainer's full
  state dict between two batches and records its policy version.
- ``RolloutWorker``: one per node; plays groups of G episodes in its own sandboxes, at most
  ``sandboxes_per_worker`` at once, behind a circuit breaker (``tmax.cluster.breaker``).
  Episodes ask the engine actor for tokens; trial dirs go to ``<run_dir>/rollouts`` (the run
  dir must be on storage every node sees, as must the tasks).
- ``TrainerRank``: one FSDP rank of the trainer (``tmax.rl.sharding``); every rank gets the
  same groups and runs its share of the micro-batches.
"""

from __future__ import annotations

import socket
from pathlib import Path


def _threads(n: int | None) -> None:
    if n:
        import torch

        torch.set_num_threads(n)


class RemoteEngine:
    """The engine protocol over an ``EngineActor`` handle (used inside rollout workers)."""

    def __init__(self, handle):
        self.handle = handle

    def generate(self, prompts, params):
        import ray

        return ray.get(self.handle.generate.remote(prompts, params))


def hf_engine(model_dir: str, device: str = "cpu"):
    from tmax.engines.hf import HFEngine

    return HFEngine.from_pretrained(model_dir, device=device, dtype="float32")


def vllm_engine(model_dir: str, device: str = "cuda"):
    from tmax.engines.vllm import VLLMEngine

    # the checkpoint's dtype (bf16 for Tmax-9B, fp32 for the tiny models) with the LM head in
    # fp32, as the recipe keeps it; the context is the model's own (capped at its positions)
    return VLLMEngine(model_dir, dtype="auto", fp32_lm_head=True)


ENGINES = {"hf": hf_engine, "vllm": vllm_engine}


class EngineActor:
    """Serves ``make_engine()`` (a picklable callable, e.g. ``partial(ENGINES[kind], model_dir)``)."""

    def __init__(self, make_engine, max_batch: int, torch_threads: int | None = None):
        from tmax.engines.batching import Batcher

        _threads(torch_threads)
        self.engine = make_engine()
        self.batcher = Batcher(self.engine, max_batch=max_batch)

    def generate(self, prompts, params):
        return self.batcher.generate(prompts, params)

    def load_weights(self, weights: dict, version: int) -> int:
        self.engine.load_weights(weights, version)
        return version

    def load_arrays(self, arrays: dict, version: int) -> int:
        """Load weights from the object store (``TrainerRank.weights``: numpy arrays, zero-copy)."""
        from tmax.cluster.weight_sync import from_arrays

        return self.load_weights(from_arrays(arrays), version)

    def open_broadcast(self, address: str, port: int, rank: int, size: int, spec: list) -> None:
        from tmax.cluster.weight_sync import Broadcast

        self.broadcast, self.spec = Broadcast(address, port, rank, size), spec

    def pull_weights(self, version: int) -> int:
        """Receive the weights trainer rank 0 is broadcasting and load them."""
        return self.load_weights(self.broadcast.receive(self.spec), version)

    def weights_checksum(self) -> float:
        """Sum of every weight (tests: the engine holds the trainer's weights)."""
        return float(sum(p.double().sum() for p in self.engine.model.state_dict().values()))


class RolloutWorker:
    def __init__(self, name: str, engine, cfg: dict):
        from transformers import AutoTokenizer

        from tmax.cluster.breaker import CircuitBreaker
        from tmax.engines.batching import Batcher
        from tmax.engines.chat import ChatRenderer
        from tmax.engines.policy import TokenPolicy
        from tmax.rl.rollouts import LocalGroups
        from tmax.rl.train import TrainConfig

        cfg = TrainConfig.model_validate(cfg)
        c = cfg.cluster
        _threads(c.torch_threads)
        self.name, self.node = name, socket.gethostname()
        self.batcher = Batcher(RemoteEngine(engine), max_batch=c.sandboxes_per_worker)
        renderer = ChatRenderer(AutoTokenizer.from_pretrained(cfg.model))
        new_policy = lambda: TokenPolicy(self.batcher, renderer, cfg.sampling,  # noqa: E731
                                         max_context_tokens=cfg.max_context_tokens)
        self.groups = LocalGroups(new_policy, cfg.run_dir, group_size=cfg.group_size, sandbox=cfg.sandbox,
                                  concurrency=c.sandboxes_per_worker, harness=cfg.harness)
        self.breaker = CircuitBreaker(window=c.breaker_window, min_episodes=c.breaker_min_episodes,
                                      max_failure_rate=c.breaker_failure_rate, cooldown_s=c.breaker_cooldown_s)
        self.tasks: dict[str, object] = {}
        self.episodes = self.failed = 0

    def run_group(self, task_path: str, index: int, version: int) -> dict:
        """``{"group": Group}``, or ``{"paused_s": s}`` while this node's breaker is open."""
        from tmax.tasks import load_task

        if not self.breaker.allow():
            return {"paused_s": max(self.breaker.remaining_s(), 0.5)}
        task = self.tasks.get(task_path) or self.tasks.setdefault(task_path, load_task(Path(task_path)))
        group = self.groups.run_group(task, index, version)
        outcomes = [r is not None for r in group.records]
        self.breaker.record(outcomes)
        self.episodes += len(outcomes)
        self.failed += outcomes.count(False)
        return {"group": group, "worker": self.name}

    def stats(self) -> dict:
        return {"worker": self.name, "node": self.node, "episodes": self.episodes, "infra_failed": self.failed,
                "breaker": self.breaker.state, "breaker_trips": self.breaker.trips}

    def close(self) -> None:
        self.groups.close()
        self.batcher.close()


class TrainerRank:
    def __init__(self, rank: int, world: int, cfg: dict):
        from tmax.rl.train import TrainConfig

        self.rank, self.world, self.cfg = rank, world, TrainConfig.model_validate(cfg)
        _threads(self.cfg.cluster.torch_threads)

    def address(self) -> tuple[str, int]:
        """This node's address and a free port for the process group (asked of rank 0)."""
        import ray

        with socket.socket() as s:
            s.bind(("", 0))
            return ray.util.get_node_ip_address(), s.getsockname()[1]

    def setup(self, address: str, port: int) -> None:
        import torch

        from tmax.engines.hf import load_model, upcast_lm_head
        from tmax.rl.sharding import enable_gradient_checkpointing, init_process_group, shard

        cfg = self.cfg
        device = "cuda" if cfg.cluster.train_gpus > 0 else cfg.device
        self.model, self.tokenizer = load_model(cfg.model, device=device, dtype="float32")
        upcast_lm_head(self.model)
        if self.world > 1:
            init_process_group(self.rank, self.world, address, port)
            shard(self.model, gradient_checkpointing=cfg.gradient_checkpointing)
        elif cfg.gradient_checkpointing:
            enable_gradient_checkpointing(self.model)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=cfg.lr, weight_decay=0.0)

    def resume(self, config: dict, fresh: dict) -> dict:
        from tmax.rl import checkpoint

        return checkpoint.resume_run(Path(self.cfg.run_dir), config, self.model, self.optimizer, fresh)

    def step(self, groups) -> dict:
        from tmax.rl.step import train_step

        return train_step(self.model, self.optimizer, groups, self.cfg.step, rank=self.rank, world=self.world)

    def _sync_weights(self) -> dict | None:
        """The full weights for the engines, in ``sync_dtype`` (rank 0; None on other ranks)."""
        import torch

        from tmax.rl.sharding import full_state_dict

        weights = full_state_dict(self.model)  # a collective: every rank calls it
        if self.rank != 0:
            return None
        dtype = getattr(torch, self.cfg.cluster.sync_dtype)
        if dtype != torch.float32:  # the head stays fp32: the engines compute logits in fp32
            weights = {k: v if k.endswith("lm_head.weight") or not v.is_floating_point() else v.to(dtype)
                       for k, v in weights.items()}
        return weights

    def weights(self) -> list:
        """``[ref]`` to the full weights in the object store on rank 0 (``[]`` elsewhere); a list so
        that Ray hands the reference on instead of fetching the tensors to the caller."""
        import ray

        from tmax.cluster.weight_sync import to_arrays

        weights = self._sync_weights()
        return [] if weights is None else [ray.put(to_arrays(weights))]

    def weight_spec(self) -> list | None:
        """(name, shape, dtype) of what ``push_weights`` sends, in order (rank 0)."""
        from tmax.cluster.weight_sync import Broadcast

        weights = self._sync_weights()
        return None if weights is None else Broadcast.spec(weights)

    def open_broadcast(self, address: str, port: int, size: int) -> None:
        """Rank 0 becomes the source of the weight-sync group (the engines join as ranks 1..)."""
        from tmax.cluster.weight_sync import Broadcast

        self.broadcast = Broadcast(address, port, 0, size)

    def push_weights(self) -> None:
        weights = self._sync_weights()
        if weights is not None:
            self.broadcast.send(weights)

    def save(self, step: int, state: dict) -> None:
        from tmax.rl import checkpoint

        checkpoint.save(Path(self.cfg.run_dir), step, self.model, self.optimizer, state,
                        keep=self.cfg.keep_checkpoints)

    def save_model(self, out_dir: str) -> None:
        from tmax.engines.hf import save_model
        from tmax.rl.sharding import full_state_dict

        weights = full_state_dict(self.model)
        if self.rank == 0:
            save_model(self.model, self.tokenizer, Path(out_dir), state_dict=weights)

    def close(self) -> None:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()
