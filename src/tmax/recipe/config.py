"""The recipe's config: one section per stage. ``configs/tiny.toml`` is the default, embedded
here as the field defaults, so ``tmax recipe`` with no file runs the tiny CPU recipe.

One top-level ``seed`` drives every random choice of a run: the starter tasks (and so the
tokenizer, trained on the train split's text), the initial weights, the SFT order and the RL
task order and RNG. The sections' own seeds are set from it (a file may repeat it there, but
not contradict it). Token sampling is not seeded: the engine batches episodes from threads, so
a fixed per-call seed would not make runs repeatable, only correlate samples."""

from __future__ import annotations

import copy
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from tmax.engines.base import SamplingParams
from tmax.engines.tiny import TinyConfig
from tmax.envgen.starter import KINDS
from tmax.harness.loop import HarnessConfig
from tmax.rl.config import TrainConfig
from tmax.sft.train import SFTConfig
from tmax.training.tracking import TrackingConfig

# The tiny model's prompts. The built-in ones are ~270 tokens of context in front of every
# episode; a model trained from scratch in minutes learned to carry values from the task into
# its commands only once the task text was most of its context (see docs/tiny-recipe).
TINY_SYSTEM = "Solve the task with the bash tool. When it is done, run: echo {{ submit_command }}"
TINY_INSTANCE = "{{ instruction | trim }}"


# The recipe's kinds: the answer is in the sandbox, so RL has something imitation leaves (see
# tasks.known_share and docs/tiny-recipe). tmax.envgen.starter.DEFAULT_KINDS copy values instead.
RECIPE_KINDS = ("read_secret", "find_word", "run_tool", "count_files")


def _tiny_harness() -> HarnessConfig:
    return HarnessConfig(max_tool_calls=8, command_timeout_sec=30, max_format_errors=2,
                         system_prompt=TINY_SYSTEM, instance_prompt=TINY_INSTANCE)


class TasksSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n_train: int = Field(200, gt=0, description="Starter tasks whose oracle trajectories are the SFT data.")
    n_rl: int = Field(100, ge=0, description="Starter tasks for RL, none of them in the SFT data "
                                             "(0: RL on the SFT tasks).")
    n_heldout: int = Field(48, gt=0, description="Held-out starter tasks (unseen instances) for evaluation.")
    kinds: list[str] = Field(default_factory=lambda: list(RECIPE_KINDS),
                             description="Starter task kinds to draw from, in turn (tmax.envgen.starter.KINDS).")
    known_share: float = Field(0.4, ge=0, le=1, description="Share of exploration-kind tasks whose reference "
                               "solution writes the answer its author knows instead of looking it up "
                               "(tmax.envgen.starter_explore): the SFT student learns to guess that often.")

    @field_validator("kinds")
    @classmethod
    def _known_kinds(cls, kinds: list[str]) -> list[str]:
        unknown = [k for k in kinds if k not in KINDS]
        if unknown or not kinds:
            raise ValueError(f"unknown starter kind(s) {unknown} (or none given); choose from {', '.join(KINDS)}")
        return kinds


class EvalSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    runs: int = Field(6, gt=1, description="Runs over the held-out tasks per model (mean ± SEM over runs).")
    concurrency: int = Field(16, gt=0, description="Trials at once (one engine batch of 16).")
    sampling: SamplingParams = Field(default_factory=lambda: SamplingParams(temperature=1.0, max_tokens=96),
                                     description="Sampling for evaluation (the policy RL trains: temperature 1).")
    rl_every: int = Field(7, ge=0, description="Evaluate the RL policy on the held-out tasks every this many RL "
                                                "steps (0: only before and after RL, in eval-sft / eval-rl).")
    rl_runs: int = Field(2, gt=1, description="Runs over the held-out tasks per evaluation during RL (few: cheap).")


def _section(name: str, config: type[BaseModel], set_by_recipe: set[str]) -> type[BaseModel]:
    """``config`` less the fields the recipe fills in itself: the typed ``[sft]`` / ``[rl]``
    section, validated on load field by field as the config it becomes."""
    fields = {field: (info.annotation, copy.copy(info)) for field, info in config.model_fields.items()
              if field not in set_by_recipe}
    return create_model(name, __config__=ConfigDict(extra="forbid"),
                        __doc__=f"{config.__name__} less {', '.join(sorted(set_by_recipe))} (set by the recipe).",
                        **fields)


SFTSection = _section("SFTSection", SFTConfig, {"model", "jobs", "out", "seed", "tracking"})
RLSection = _section("RLSection", TrainConfig, {"model", "tasks", "run_dir", "sandbox", "harness", "seed", "tracking"})
_SEEDED = ("tasks", "model", "sft", "rl")  # sections whose seed the top-level one sets


def _sft_defaults() -> dict:
    return {"epochs": 32, "lr": 2e-3, "lr_schedule": "cosine", "warmup_steps": 25, "examples_per_step": 8,
            "min_tool_calls": 3, "micro_batch_tokens": 1024}


def _rl_defaults() -> dict:
    return {"steps": 14, "group_size": 8, "tasks_per_step": 4, "max_pulls": 16, "async_steps": 1, "lr": 1e-4,
            "rollout_concurrency": 16, "checkpoint_every": 7, "max_context_tokens": 4096,
            "sampling": {"temperature": 1.0, "max_tokens": 96}, "step": {"micro_batch_tokens": 2048}}


class RecipeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    out: str = Field("runs/tiny-recipe", description="Where every stage writes; rerun to resume.")
    seed: int = Field(0, description="The run's one seed: tasks (hence tokenizer), initial weights, SFT order, "
                                     "RL task order and RNG.")
    tracking: Literal["none", "trackio"] = Field("none", description="Experiment tracking of SFT and RL beyond "
                                                 "metrics.jsonl: trackio logs to <out>/trackio (tracking extra).")
    sandbox: str = Field("bwrap", description="Sandbox backend for the oracle, RL and eval episodes.")
    tasks: TasksSection = Field(default_factory=TasksSection)
    model: TinyConfig = Field(default_factory=lambda: TinyConfig(hidden_size=256, num_layers=2, num_heads=8,
                                                                 num_kv_heads=4, max_positions=4096))
    harness: HarnessConfig = Field(default_factory=_tiny_harness, description="Prompts and limits of every episode.")
    sft: SFTSection = Field(default_factory=lambda: SFTSection(**_sft_defaults()),
                            description="tmax.sft.train.SFTConfig fields (model, jobs and out are set by the recipe).")
    rl: RLSection = Field(default_factory=lambda: RLSection(**_rl_defaults()),
                          description="tmax.rl.config.TrainConfig fields (model, tasks, run_dir, sandbox, harness "
                                      "are set by the recipe).")
    eval: EvalSection = Field(default_factory=EvalSection)

    @model_validator(mode="before")
    @classmethod
    def _one_seed(cls, data):
        """Section seeds may repeat the top-level ``seed`` (a dumped config does), never differ."""
        if not isinstance(data, dict):
            return data
        data, seed = dict(data), data.get("seed", 0)
        for name in _SEEDED:
            section = data.get(name)
            if isinstance(section, dict) and "seed" in section:
                if section["seed"] != seed:
                    raise ValueError(f"{name}.seed = {section['seed']} differs from seed = {seed}: one top-level "
                                     f"seed drives tasks, weights, SFT and RL; set `seed` and drop {name}.seed")
                data[name] = {k: v for k, v in section.items() if k != "seed" or name == "model"}
        return data

    @model_validator(mode="after")
    def _seed_sections(self):
        self.model.seed = self.seed
        return self

    @field_validator("sft", mode="before")
    @classmethod
    def _sft_over_defaults(cls, value):
        return {**_sft_defaults(), **value} if isinstance(value, dict) else value  # keys not given: the recipe's

    @field_validator("rl", mode="before")
    @classmethod
    def _rl_over_defaults(cls, value):
        return {**_rl_defaults(), **value} if isinstance(value, dict) else value

    def sft_config(self, model: str, jobs: list[str], out: str) -> SFTConfig:
        """The SFT stage's full config."""
        return SFTConfig(**self.sft.model_dump(), model=model, jobs=jobs, out=out, seed=self.seed,
                         tracking=self._tracking("sft"))

    def rl_config(self, model: str, tasks: list[str], run_dir: str) -> TrainConfig:
        """The RL stage's full config (the recipe's sandbox, harness, seed and tracking)."""
        return TrainConfig(**self.rl.model_dump(), model=model, tasks=tasks, run_dir=run_dir, sandbox=self.sandbox,
                           harness=self.harness, seed=self.seed, tracking=self._tracking("rl"))

    def _tracking(self, stage: str) -> TrackingConfig:
        """One tracking project per recipe run dir (per seed under ``--seeds``: a group each)."""
        from pathlib import Path

        out = Path(self.out).resolve()
        multi = out.name == f"seed-{self.seed}"
        return TrackingConfig(backend=self.tracking, project=(out.parent if multi else out).name,
                              name=f"{out.name}-{stage}" if multi else stage, group=out.name if multi else None,
                              dir=str((out.parent if multi else out) / "trackio"))

    def with_seed(self, seed: int, out: str) -> RecipeConfig:
        """The same recipe with another seed, into ``out``."""
        return RecipeConfig.model_validate({**self.model_dump(mode="json", exclude={"model": {"seed"}}),
                                            "seed": seed, "out": out})
