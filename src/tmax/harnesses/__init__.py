"""Outside harnesses: other projects' agent loops run as tmax trial agents.

A harness here is the agent loop, prompts and tool handling of an outside project, run on
tmax's tasks, sandboxes and verifier, with its model reached over OpenAI-compatible HTTP (an
``Endpoint``: ``tmax serve`` started by the eval for a local model dir, or any server). Each
entry of ``HARNESSES`` builds an agent with the trial runner's signature,
``agent(sandbox, task, log_dir, timeout) -> AgentOutcome``, so trial dirs, rewards and the
failure rule are the same as for tmax's own harness:

- ``mini-swe-agent`` (mini_swe_agent.py): the ``mini-swe-agent`` package's ``DefaultAgent``
  with its own ``mini`` config (prompts, observation and format-error templates), its model
  ``LitellmModel`` (litellm, chat completions with a ``bash`` tool); the loop runs in this
  process, every command in the task's sandbox.
- ``codex`` (codex.py): the Codex CLI binary run inside the task's sandbox, its only way out a
  ``tmax.sandbox.portal.Portal`` to the model endpoint.

``tmax`` (tmax's own harness, ``tmax.harness``) is not in this dict: the eval builds it from
its engine as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from tmax.engines.base import SamplingParams
from tmax.errors import ConfigError


@dataclass(frozen=True)
class Endpoint:
    """Where an outside harness finds its model: an OpenAI-compatible ``base_url`` (ending in
    ``/v1``), the served model name, and the API key to send."""
    base_url: str
    model: str
    api_key: str = "unused"


class OutsideConfig(BaseModel):
    """Settings of the outside harnesses (``tmax eval --harness mini-swe-agent | codex``)."""
    model_config = ConfigDict(extra="forbid")

    step_limit: int = Field(64, ge=0, description="mini-swe-agent: most model calls per trial (0: no limit).")
    command_timeout_sec: float = Field(180.0, gt=0, description="mini-swe-agent: per-command limit.")
    mini_config: str = Field("mini", description="mini-swe-agent: its config to load (a built-in name such as "
                                                 "`mini`, or a YAML file); model and limits are set by tmax.")
    model_retries: int = Field(3, ge=1, description="mini-swe-agent: attempts per model call (its "
                                                    "MSWEA_MODEL_RETRY_STOP_AFTER_ATTEMPT) before the trial errors.")
    codex_binary: str | None = Field(None, description="codex: the Codex CLI's native Linux binary (static, musl); "
                                                       "default: the one under the npm package of `codex` on PATH.")
    codex_args: list[str] = Field(default_factory=list, description="codex: extra `codex exec` arguments, e.g. "
                                                                    "['-c', 'model_reasoning_effort=\"low\"'].")


Harness = Callable[[Endpoint, OutsideConfig, SamplingParams], Callable]


def _mini(endpoint: Endpoint, cfg: OutsideConfig, sampling: SamplingParams):
    from tmax.harnesses.mini_swe_agent import mini_swe_agent
    return mini_swe_agent(endpoint, cfg, sampling)


def _codex(endpoint: Endpoint, cfg: OutsideConfig, sampling: SamplingParams):
    from tmax.harnesses.codex import codex_agent
    return codex_agent(endpoint, cfg, sampling)


HARNESSES: dict[str, Harness] = {"mini-swe-agent": _mini, "codex": _codex}
NAMES = ("tmax", *HARNESSES)


def check_name(name: str) -> str:
    if name not in NAMES:
        raise ConfigError(f"unknown harness {name!r}", where="--harness", fix=f"choose one of: {', '.join(NAMES)}")
    return name


def make_harness_agent(name: str, endpoint: Endpoint, cfg: OutsideConfig | None = None,
                       sampling: SamplingParams | None = None) -> Callable:
    """The trial agent of outside harness ``name``, talking to ``endpoint``. Its ``harness``
    attribute names it (recorded in result.json)."""
    if check_name(name) == "tmax":
        raise ConfigError("tmax's own harness is built from an engine, not an endpoint", where="--harness")
    agent = HARNESSES[name](endpoint, cfg or OutsideConfig(), sampling or SamplingParams())
    agent.harness = name
    return agent
