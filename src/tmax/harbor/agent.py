"""tmax's harness as a Harbor agent: ``harbor run -a tmax.harbor:TmaxAgent -m openai/NAME``.

The agent runs tmax's loop (one ``bash`` tool, Qwen3 XML / Hermes / OpenAI tool calls, head +
tail observations, 64 tool calls, the submit command) against a model served over
OpenAI-compatible HTTP (``tmax serve``, vLLM, SGLang, ...), so Harbor's venv needs no torch.

Options (``--ak key=value``):

- ``base_url`` (default ``http://127.0.0.1:8000/v1``): the server.
- ``tokenizer``: a local tokenizer dir. With it the agent renders the chat itself and asks for
  completions by token ids, so it records the exact tokens: Harbor's ``rollout_details`` (per
  reply ``completion_token_ids`` and ``logprobs``; ``extra.context_token_ids``: the context
  tokens before each reply) and ``agent/tokens.json``. Without it, chat completions (any
  server; no token record).
- ``max_tool_calls``, ``command_timeout_sec``, ``timeout_sec``, ``temperature``, ``max_tokens``,
  ``parser``, ``api_key_env``.

Commands run in the sandbox's real persistent shell on tmax's environments, and through
``tmax.harbor.shell.HarborExecShell`` (cwd and exports carried in files) on any other. The
trajectory is ATIF (``agent/trajectory.json`` in the trial dir, via ``logs_dir``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from harbor.agents.agent_auth_resolution import ResolvedModelConnection
from harbor.agents.base import BaseAgent
from harbor.agents.capabilities import AgentCapabilities
from harbor.agents.options import AgentOptions
from harbor.environments.base import BaseEnvironment
from harbor.models.agent.context import AgentContext
from pydantic import Field

import tmax
from tmax.harbor.environment import TmaxEnvironment
from tmax.harbor.shell import HarborExecShell


class TmaxAgentOptions(AgentOptions):
    tokenizer: str | None = Field(None, description="Local tokenizer dir: token mode (rollout_details).")
    max_tool_calls: int = Field(64, gt=0, description="Most tool calls per episode.")
    command_timeout_sec: float = Field(180.0, gt=0, description="Per-command limit.")
    timeout_sec: float = Field(600.0, gt=0, description="The episode's limit (Harbor's agent timeout also applies).")
    temperature: float = Field(1.0, ge=0, description="Sampling temperature.")
    max_tokens: int = Field(1024, gt=0, description="Most new tokens per reply.")
    parser: str = Field("auto", description="Tool-call parser: auto | qwen3_xml | hermes | openai | fenced_bash.")
    api_key_env: str = Field("OPENAI_API_KEY", description="Environment variable with the API key.")


DEFAULT_URL = "http://127.0.0.1:8000/v1"


class TmaxAgent(BaseAgent):
    capabilities = AgentCapabilities(base_url=True, atif=True)
    options_model = TmaxAgentOptions

    def __init__(self, logs_dir: Path, model_name: str | None = None, *args, base_url: str | None = None,
                 **kwargs):
        # base_url is this agent's own option, not Harbor's model-connection override
        super().__init__(logs_dir, model_name, *args, **kwargs)
        self._url = base_url or DEFAULT_URL

    @classmethod
    def resolve_model_connection_config(cls, model_name, resolve_env, **kwargs) -> ResolvedModelConnection:
        """The agent talks to ``base_url`` itself (tmax's OpenAI client); Harbor resolves nothing."""
        url = kwargs.get("base_url") or kwargs.get("base_url_from_kwargs")
        return ResolvedModelConnection(candidate_base_url=url, user_supplied_base_url=url, resolved_base_url=url,
                                       can_configure_base_url=True)

    @staticmethod
    def name() -> str:
        return "tmax"

    def version(self) -> str:
        return getattr(tmax, "__version__", "0")

    async def setup(self, environment: BaseEnvironment) -> None:
        return

    def _policy(self):
        from tmax.engines import EngineConfig, SamplingParams, policy_factory

        opts: TmaxAgentOptions = self.options
        if not self.model_name:
            raise ValueError("tmax agent: no model given; pass -m openai/SERVED_NAME (see GET /v1/models)")
        model = self.model_name.split("/", 1)[1] if "/" in self.model_name else self.model_name
        cfg = EngineConfig(name="openai", model=model, base_url=self._url, tokenizer=opts.tokenizer,
                           api_key_env=opts.api_key_env,
                           sampling=SamplingParams(temperature=opts.temperature, max_tokens=opts.max_tokens))
        return policy_factory(cfg)()

    def _episode(self, instruction: str, sandbox, workdir: str):
        from tmax.harness.loop import HarnessConfig, run_episode, save_trajectory

        opts: TmaxAgentOptions = self.options
        config = HarnessConfig(parser=opts.parser, max_tool_calls=opts.max_tool_calls,
                               command_timeout_sec=opts.command_timeout_sec)
        policy = self._policy()
        episode = run_episode(policy, sandbox, instruction, workdir=workdir, timeout=opts.timeout_sec, config=config)
        save_trajectory(episode, Path(self.logs_dir) / "trajectory.json", model_name=self.model_name)
        return episode, getattr(policy, "record", None)

    async def run(self, instruction: str, environment: BaseEnvironment, context: AgentContext) -> None:
        from tmax.harness.atif import rollout_details

        if isinstance(environment, TmaxEnvironment):
            sandbox = environment.sandbox
            workdir = environment.workdir
        else:
            workdir = environment.task_env_config.workdir or "/app"
            sandbox = HarborExecShell(environment, asyncio.get_running_loop(), workdir)
        episode, record = await asyncio.to_thread(self._episode, instruction, sandbox, workdir)
        usage = episode.usage or {}
        context.n_input_tokens = usage.get("prompt_tokens")
        context.n_output_tokens = usage.get("completion_tokens")
        if record is not None and record.turns:
            context.rollout_details = [rollout_details(record)]
        context.metadata = {"exit_reason": episode.exit_reason, "n_tool_calls": episode.n_tool_calls,
                            "n_format_errors": episode.n_format_errors, "n_turns": len(episode.turns)}
