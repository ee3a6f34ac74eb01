"""Typed ``task.toml``: the knobs Harbor tasks set, with Harbor's defaults.

Both forms of the file load: the legacy one (``version = "1.0"``) and the newer one
(``schema_version = "..."``). Unknown keys are kept (Harbor adds fields over time) and
reported as warnings by ``tmax tasks validate``, never as errors.

Harbor's current format is read as well (field names and meanings from the ``harbor``
package's ``TaskConfig``): ``[task]`` (the package name, ``org/name``), ``[[steps]]`` (a
multi-step task; see ``tmax.tasks.harbor_format``), ``multi_step_reward_strategy``,
``artifacts``, ``network_mode`` / ``allowed_hosts`` on ``[environment]``, ``[agent]`` and
``[verifier]``, and ``[verifier] environment_mode`` / ``[verifier.environment]`` (a separate
verifier environment). ``dependencies`` and ``inherit_prior_session`` in a step come from
public task collections, not from Harbor's models; tmax reads them (see harbor_format).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="allow")

    def unknown_keys(self) -> list[str]:
        return sorted((self.model_extra or {}).keys())


NetworkMode = Literal["no-network", "public", "allowlist"]


class _NetworkFields(_Section):
    network_mode: NetworkMode | None = Field(
        None, description="Harbor's network policy for this phase or environment (unset: inherit / tmax's "
        "offline default; see tmax.tasks.harbor_format.network_plan).")
    allowed_hosts: list[str] | None = Field(None, description="Hosts reachable with network_mode = \"allowlist\".")


class AgentConfig(_NetworkFields):
    timeout_sec: float = Field(600.0, gt=0, description="Wall-clock limit for the agent phase.")


class SolutionConfig(_Section):
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment for solve.sh.")


def parse_size_mb(value: Any) -> int:
    """``2048``, ``"2048"``, ``"2G"``, ``"512M"``, ``"1.5GB"`` -> megabytes."""
    if isinstance(value, (int, float)):
        return int(value)
    match = re.fullmatch(r"\s*([0-9.]+)\s*([KMGT]?)(i?B)?\s*", str(value), re.IGNORECASE)
    if not match:
        raise ValueError(f"cannot read size {value!r}; write megabytes (2048) or a unit (\"2G\", \"512M\")")
    number, unit = float(match.group(1)), match.group(2).upper()
    return int(number * {"": 1, "K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024}[unit])


class EnvironmentConfig(_NetworkFields):
    build_timeout_sec: float = Field(600.0, gt=0, description="Limit for building the image.")
    docker_image: str | None = Field(None, description="Prebuilt image to use instead of building.")
    cpus: float = Field(1.0, gt=0, description="CPU cores the sandbox may use.")
    memory_mb: int = Field(2048, gt=0, description="Memory limit in MB (`memory = \"2G\"` also reads).")
    storage_mb: int | None = Field(None, description="Disk quota in MB, where the backend can enforce it.")
    allow_internet: bool = Field(False, description="Legacy: give the sandbox a network (Harbor: network_mode).")
    workdir: str | None = Field(None, description="Working directory of commands (overrides the image's WORKDIR).")

    @model_validator(mode="before")
    @classmethod
    def _sizes(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for short, long in (("memory", "memory_mb"), ("storage", "storage_mb")):
                if short in data and long not in data:
                    data[long] = parse_size_mb(data.pop(short))
        return data


class VerifierConfig(_NetworkFields):
    timeout_sec: float = Field(600.0, gt=0, description="Wall-clock limit for `bash /tests/test.sh`.")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment for the verifier.")
    environment_mode: Literal["shared", "separate"] | None = Field(
        None, description="`separate`: the verifier runs in a fresh sandbox over the agent's artifacts "
        "(unset: separate when [verifier.environment] is given, else shared).")
    environment: EnvironmentConfig | None = Field(None, description="The separate verifier's environment.")


class StepAgentConfig(_NetworkFields):
    timeout_sec: float | None = Field(None, gt=0, description="The step's agent limit (unset: [agent]'s).")


class StepVerifierConfig(_NetworkFields):
    timeout_sec: float | None = Field(None, gt=0, description="The step's verifier limit (unset: [verifier]'s).")
    env: dict[str, str] = Field(default_factory=dict, description="Extra verifier environment of this step.")
    environment_mode: Literal["shared", "separate"] | None = None
    environment: EnvironmentConfig | None = None


class StepConfig(_Section):
    """One ``[[steps]]`` entry: ``steps/<name>/{instruction.md, solution/, tests/}``."""

    name: str = Field(description="The step's directory under steps/.")
    agent: StepAgentConfig = Field(default_factory=StepAgentConfig)
    verifier: StepVerifierConfig = Field(default_factory=StepVerifierConfig)
    min_reward: float | dict[str, float] | None = Field(
        None, description="Stop after this step when its reward (or any named key) is below the threshold.")
    artifacts: list[str | dict] = Field(default_factory=list, description="Paths the step's verifier sees.")
    dependencies: list[str] = Field(default_factory=list, description="Earlier steps this one builds on "
                                    "(public collections' field; steps run in the listed order).")
    inherit_prior_session: bool = Field(False, description="Send the instruction to the previous step's agent "
                                        "session (conversation) instead of a fresh one (public collections' field).")

    @field_validator("name")
    @classmethod
    def _portable(cls, value: str) -> str:
        if not value.strip() or value in {".", ".."} or re.search(r'[<>:"/\\|?*\x00-\x1f]', value):
            raise ValueError(f"step name {value!r} must be a plain directory name")
        return value

    def unknown_keys(self) -> list[str]:
        keys = super().unknown_keys()
        for name in ("agent", "verifier"):
            keys += [f"{name}.{k}" for k in getattr(self, name).unknown_keys()]
        return keys


class TaskInfo(_Section):
    """``[task]``: the package's identity in Harbor's registry."""

    name: str = Field(description="`org/name`; tmax uses it as the task's name.")
    version: str | None = None
    description: str = ""


class TaskConfig(BaseModel):
    """The whole ``task.toml``."""

    model_config = ConfigDict(extra="allow")

    version: str | None = Field(None, description="Legacy schema marker, e.g. \"1.0\".")
    schema_version: str | None = Field(None, description="Newer schema marker.")
    task: TaskInfo | None = Field(None, description="[task]: package name (org/name) and description.")
    source: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    verifier: VerifierConfig = Field(default_factory=VerifierConfig)
    agent: AgentConfig = Field(default_factory=AgentConfig)
    environment: EnvironmentConfig = Field(default_factory=EnvironmentConfig)
    solution: SolutionConfig = Field(default_factory=SolutionConfig)
    steps: list[StepConfig] | None = Field(None, description="A multi-step task's steps, run in this order.")
    multi_step_reward_strategy: Literal["mean", "final"] | None = Field(
        None, description="The trial reward of a multi-step task: per-key mean over the steps that ran "
        "(default) or the last step's rewards.")
    artifacts: list[str | dict] = Field(default_factory=list,
                                        description="Paths a separate verifier gets from the agent's sandbox.")

    @field_validator("steps")
    @classmethod
    def _unique_steps(cls, steps: list[StepConfig] | None) -> list[StepConfig] | None:
        names = [s.name.casefold() for s in steps or []]
        if len(names) != len(set(names)):
            raise ValueError("step names must be unique")
        return steps

    @field_validator("version", "schema_version", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        return None if value is None else str(value)

    def unknown_keys(self) -> list[str]:
        keys = sorted((self.model_extra or {}).keys())
        for name in ("verifier", "agent", "environment", "solution", "task"):
            if getattr(self, name) is not None:
                keys += [f"{name}.{k}" for k in getattr(self, name).unknown_keys()]
        for i, step in enumerate(self.steps or []):
            keys += [f"steps[{i}].{k}" for k in step.unknown_keys()]
        return keys
