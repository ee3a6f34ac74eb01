"""``[cluster]`` in a ``tmax train`` config: where the trainer, the engines and the rollouts run."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ClusterConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backend: Literal["local", "ray"] = Field("local", description="local: everything in this process; ray: actors.")
    address: str | None = Field(None, description="Ray cluster to join ('auto' = the one `ray start` made on "
                                                  "this node); None starts a private local instance.")
    num_cpus: int | None = Field(None, gt=0, description="Logical CPUs of a private local instance.")
    engines: int = Field(1, gt=0, description="Inference engine actors (each a full copy of the policy).")
    engine: Literal["hf", "vllm"] = Field("hf", description="Engine kind inside each engine actor.")
    engine_gpus: float = Field(0.0, ge=0, description="GPUs per engine actor (1 for vLLM on a GPU).")
    weight_sync: Literal["object_store", "broadcast"] = Field(
        "object_store", description="How the engines get new weights: through Ray's object store, or broadcast "
                                    "from trainer rank 0 over a process group (NCCL on GPUs, gloo on CPUs).")
    sync_dtype: Literal["float32", "bfloat16"] = Field("float32", description="dtype of the weights sent to the "
                                                      "engines each step (the LM head stays fp32); bfloat16 halves "
                                                      "the transfer for bf16 engines.")
    engine_max_batch: int = Field(64, gt=0, description="Most prompts an engine actor batches into one call.")
    rollout_workers: int = Field(1, gt=0, description="Rollout worker actors, spread over nodes.")
    sandboxes_per_worker: int = Field(8, gt=0, description="Per-worker (per-node) limit on episodes at once.")
    train_processes: int = Field(1, gt=0, description="FSDP ranks of the trainer (one per GPU on GPU nodes).")
    train_gpus: float = Field(0.0, ge=0, description="GPUs per trainer rank.")
    train_resources: dict[str, float] = Field(default_factory=dict, description="Ray custom resources per trainer "
                                              "rank, to pin ranks to nodes started with `ray start --resources`.")
    engine_resources: dict[str, float] = Field(default_factory=dict, description="Ray custom resources per engine.")
    worker_resources: dict[str, float] = Field(default_factory=dict, description="Ray custom resources per rollout "
                                               "worker (e.g. {sandbox_node = 1}: one worker per such node).")
    torch_threads: int | None = Field(None, gt=0, description="torch intra-op threads per actor (None: torch's "
                                                              "default; set 1 when actors share few cores).")
    breaker_window: int = Field(32, gt=0, description="Episodes a worker's circuit breaker looks back over.")
    breaker_min_episodes: int = Field(8, gt=0, description="Episodes in the window before the breaker may open.")
    breaker_failure_rate: float = Field(0.5, gt=0, le=1, description="Infra-failed share that pauses a worker.")
    breaker_cooldown_s: float = Field(60.0, gt=0, description="Pause before a probe group (doubles per re-trip).")
