"""``tmax train`` on Ray (``cluster.backend = "ray"``): the same loop as ``tmax.rl.train``, with
the trainer, the engines and the rollouts as actors.

    RayTrainer
        ranks    TrainerRank x train_processes     FSDP2 process group (gloo on CPU, nccl on GPU)
        engines  EngineActor x engines             hf or vllm; weights from rank 0 each step
        workers  RolloutWorker x rollout_workers   spread over nodes, bounded sandbox pools
        runner   RayGroups                         groups -> workers with free slots, streamed back

Weight sync (``cluster.weight_sync``) goes through Ray's object store by default: rank 0
gathers the full state dict once and puts it there; every engine actor loads that one object
(on one node: shared memory, no copy per engine; across nodes: one transfer per node). With
``"broadcast"`` rank 0 sends the tensors straight to the engines over a process group of their
own (``tmax.cluster.weight_sync``: NCCL on GPUs, gloo on CPUs). ``sync`` returns only after
every engine holds the new weights, and only then does the policy version the rollouts are
stamped with move on, so the staleness bound (``async_steps``) holds across the cluster: no
group can claim a newer policy than the one that sampled it.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import time
from pathlib import Path

from tmax.errors import ConfigError, InfraError


class _Worker:
    def __init__(self, handle, name: str, slots: int):
        self.handle, self.name, self.slots = handle, name, slots
        self.busy, self.paused_until, self.alive, self.groups = 0, 0.0, True, 0


class RayGroups:
    """The group-runner protocol of ``tmax.rl.rollouts`` over rollout worker actors: each group
    goes to the live, unpaused worker with the most free slots; a worker whose breaker is open
    gets nothing until its pause ends; a dead worker's group is run again elsewhere."""

    def __init__(self, handles: list, slots: int):
        self.workers = [_Worker(h, f"worker-{i}", slots) for i, h in enumerate(handles)]
        self.groups_in_flight = slots * len(handles)
        self._cond = threading.Condition()

    def _acquire(self) -> _Worker:
        with self._cond:
            while True:
                alive = [w for w in self.workers if w.alive]
                if not alive:
                    raise InfraError("every rollout worker died", where="cluster.rollout_workers",
                                     fix="see the Ray logs (/tmp/ray/session_latest/logs) for why")
                now = time.monotonic()
                ready = [w for w in alive if w.busy < w.slots and w.paused_until <= now]
                if ready:
                    worker = max(ready, key=lambda w: w.slots - w.busy)
                    worker.busy += 1
                    return worker
                waits = [w.paused_until - now for w in alive if w.paused_until > now]
                self._cond.wait(timeout=min(waits) if waits else None)

    def _release(self, worker: _Worker) -> None:
        with self._cond:
            worker.busy -= 1
            self._cond.notify_all()

    def run_group(self, task, index: int, version: int):
        import ray
        from ray.exceptions import RayActorError

        while True:
            worker = self._acquire()
            try:
                out = ray.get(worker.handle.run_group.remote(str(task.path), index, version))
            except RayActorError:
                worker.alive = False
                continue
            finally:
                self._release(worker)
            if "paused_s" in out:
                with self._cond:
                    worker.paused_until = time.monotonic() + out["paused_s"]
                continue
            worker.groups += 1
            return out["group"]

    def close(self) -> None:
        pass  # the actors are closed by RayTrainer


class RayTrainer:
    """The ``tmax.rl.trainer.Trainer`` protocol (``LocalTrainer``'s methods) over Ray actors."""

    def __init__(self, cfg):
        try:
            import ray
        except ImportError as exc:
            raise ConfigError("cluster.backend = 'ray' needs Ray, which is not installed", where="cluster.backend",
                              fix="pip install 'tmax[cluster]', or set cluster.backend = 'local'") from exc

        self.cfg, c = cfg, cfg.cluster
        self.workers, self.engines, self.ranks = [], [], []
        self.started_ray = not ray.is_initialized()
        if self.started_ray:
            need = c.train_processes + c.engines + c.rollout_workers
            ray.init(address=c.address, num_cpus=(c.num_cpus or max(os.cpu_count() or 1, need)) if c.address is None else None,
                     include_dashboard=False, log_to_driver=False, configure_logging=False)
        try:
            self._start(cfg, c, ray)
        except BaseException:
            self._stop(ray)  # no actors or private Ray instance left behind by a failed start
            raise

    def _start(self, cfg, c, ray) -> None:
        from tmax.cluster.actors import EngineActor, RolloutWorker, TrainerRank
        from tmax.engines import ENGINES, EngineConfig

        config = cfg.model_dump(mode="json")
        world = c.train_processes
        rank_cls = ray.remote(TrainerRank).options(num_cpus=1, num_gpus=c.train_gpus, resources=c.train_resources)
        self.ranks = [rank_cls.remote(r, world, config) for r in range(world)]
        address, port = ray.get(self.ranks[0].address.remote())
        ray.get([r.setup.remote(address, port) for r in self.ranks])
        device = "cuda" if c.engine_gpus > 0 else cfg.device
        engine_cls = ray.remote(EngineActor).options(num_cpus=1, num_gpus=c.engine_gpus, max_concurrency=1024,
                                                      resources=c.engine_resources)
        # fp32 on CPUs; on GPUs the checkpoint's dtype (bf16 for Tmax-9B) with the LM head in fp32
        engine = EngineConfig(name=c.engine, model=cfg.model, device=device, fp32_lm_head=True,
                              dtype="float32" if device == "cpu" else "auto",
                              max_context_tokens=None)  # vllm: max_model_len from the model's config
        make_engine = functools.partial(ENGINES[c.engine], engine)
        self.engines = [engine_cls.remote(make_engine, c.engine_max_batch, c.torch_threads) for _ in range(c.engines)]
        slots = max(1, c.sandboxes_per_worker // cfg.group_size)
        worker_cls = ray.remote(RolloutWorker).options(num_cpus=1, max_concurrency=slots + 4,
                                                       scheduling_strategy="SPREAD", resources=c.worker_resources)
        self.workers = [worker_cls.remote(f"worker-{i}", self.engines[i % len(self.engines)], config)
                        for i in range(c.rollout_workers)]
        self.runner = RayGroups(self.workers, slots)
        self._version = 0
        if c.weight_sync == "broadcast":
            spec = ray.get([r.weight_spec.remote() for r in self.ranks])[0]
            address, port = ray.get(self.ranks[0].address.remote())
            size = 1 + len(self.engines)
            ray.get([self.ranks[0].open_broadcast.remote(address, port, size)]
                    + [e.open_broadcast.remote(address, port, i + 1, size, spec) for i, e in enumerate(self.engines)])

    def resume(self, config: dict, fresh: dict) -> dict:
        import ray

        return ray.get([r.resume.remote(config, fresh) for r in self.ranks])[0]

    def version(self) -> int:
        return self._version

    def step(self, groups) -> dict:
        import ray

        shared = ray.put(groups)  # one copy in the object store for every rank
        return ray.get([r.step.remote(shared) for r in self.ranks])[0]

    def sync(self, version: int) -> None:
        import ray

        if self.cfg.cluster.weight_sync == "broadcast":  # rank 0 sends, every engine receives at once
            ray.get([r.push_weights.remote() for r in self.ranks]
                    + [e.pull_weights.remote(version) for e in self.engines])
        else:
            [weights] = ray.get([r.weights.remote() for r in self.ranks])[0]
            ray.get([e.load_arrays.remote(weights, version) for e in self.engines])
        self._version = version  # only now: every engine samples from ``version``

    def save(self, step: int, state: dict) -> None:
        import ray

        ray.get([r.save.remote(step, state) for r in self.ranks])

    def save_model(self, out_dir: Path) -> None:
        import ray

        ray.get([r.save_model.remote(str(out_dir)) for r in self.ranks])

    def engine_checksums(self) -> list[float]:
        import ray

        return ray.get([e.weights_checksum.remote() for e in self.engines])

    def close(self) -> None:
        import ray

        from ray.exceptions import RayError

        try:
            stats = ray.get([w.stats.remote() for w in self.workers], timeout=60)
            stats = [{**s, "groups": w.groups} for s, w in zip(stats, self.runner.workers)]
            run_dir = Path(self.cfg.run_dir)
            run_dir.mkdir(parents=True, exist_ok=True)
            with open(run_dir / "cluster.jsonl", "a") as f:
                f.write(json.dumps({"closed_at": time.time(), "workers": stats}) + "\n")
            ray.get([w.close.remote() for w in self.workers], timeout=600)
            ray.get([r.close.remote() for r in self.ranks], timeout=60)
        except RayError:  # a dead actor: nothing to record; the run's own error (if any) is what matters
            pass
        finally:
            self._stop(ray)

    def _stop(self, ray) -> None:
        for actor in (*self.workers, *self.engines, *self.ranks):
            ray.kill(actor)
        if self.started_ray:
            ray.shutdown()
