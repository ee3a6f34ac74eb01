"""mini-swe-agent (pip ``mini-swe-agent``, 2.x) as a trial agent.

The loop is the package's own ``DefaultAgent`` with its ``mini`` config: its system and task
prompts, its ``bash`` tool through litellm (chat completions, tool calls), its observation and
format-error templates, its submit rule (``echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT`` as the
first line of a command's output). tmax changes only what it must: the model
(``openai/<name>`` at the endpoint, the eval's temperature and reply length), the limits
(``step_limit``, the trial's agent timeout as its wall-time limit) and the environment.

``SandboxEnvironment`` is mini-swe-agent's ``LocalEnvironment`` with ``execute`` replaced: each
action runs as ``bash -c`` in a fresh subshell of the task's sandbox, from the task's workdir
with the config's environment variables, as mini-swe-agent runs actions locally ("every action
is executed in a new subshell"). Its submit check and records are the package's own.

Failures: the loop's own ends (submitted, step or time limit, repeated format errors, a
context window exceeded) are the agent's and end the trial normally (the verifier still
scores it); a model endpoint that cannot be reached or answers 5xx or 404 after the retries is
the infrastructure's and raises ``InfraError`` (the trial is an error, not a 0).
"""

from __future__ import annotations

import os
import shlex
import time
from pathlib import Path

from tmax.errors import ConfigError, InfraError
from tmax.harnesses import Endpoint, OutsideConfig
from tmax.engines.base import SamplingParams
from tmax.sandbox.base import Sandbox
from tmax.tasks import Task
from tmax.trial.agents import AgentOutcome


def _import():
    os.environ.setdefault("MSWEA_SILENT_STARTUP", "1")  # no banner on import
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # offline: no fetch of the price list
    try:
        import litellm
        from minisweagent.agents.default import DefaultAgent
        from minisweagent.config import get_config_from_spec
        from minisweagent.environments.local import LocalEnvironment
        from minisweagent.models.litellm_model import LitellmModel
    except ImportError as exc:
        raise ConfigError(f"--harness mini-swe-agent needs the mini-swe-agent package ({exc.name} is missing)",
                          fix="pip install -e '.[harness]' (scripts/setup.sh installs it)") from None
    litellm.suppress_debug_info = True  # no provider list printed with every handled error
    return litellm, DefaultAgent, get_config_from_spec, LocalEnvironment, LitellmModel


def _environment_class(LocalEnvironment):
    class SandboxEnvironment(LocalEnvironment):
        """mini-swe-agent's environment protocol over a tmax sandbox."""

        def __init__(self, sandbox: Sandbox, deadline: float, **kwargs):
            super().__init__(**kwargs)
            self.sandbox, self.deadline = sandbox, deadline

        def execute(self, action: dict, cwd: str = "", *, timeout: int | None = None) -> dict:
            command = action.get("command", "")
            env = " ".join(f"{k}={shlex.quote(str(v))}" for k, v in self.config.env.items())
            script = f"cd {shlex.quote(cwd or self.config.cwd)} && env {env} bash -c {shlex.quote(command)}"
            limit = max(1.0, min(float(timeout or self.config.timeout), self.deadline - time.monotonic()))
            result = self.sandbox.exec(script, limit)
            output = {"output": result.output, "returncode": result.exit_code if result.exit_code is not None else -1,
                      "exception_info": ""}
            if result.timed_out:
                output.update(returncode=-1, exception_info=f"The command timed out after {limit:g} s and was killed.")
            self._check_finished(output)
            return output

        def get_template_vars(self, **kwargs) -> dict:
            # the sandbox's machine, not the host process's environment variables
            return {**self.config.model_dump(), "system": "Linux", "release": os.uname().release,
                    "version": os.uname().version, "machine": os.uname().machine, **kwargs}

    return SandboxEnvironment


def _usage(messages: list[dict]) -> tuple[int | None, int | None]:
    tokens_in = tokens_out = 0
    seen = False
    for message in messages:
        usage = ((message.get("extra") or {}).get("response") or {}).get("usage") if isinstance(message, dict) else None
        if isinstance(usage, dict):
            seen = True
            tokens_in += usage.get("prompt_tokens") or 0
            tokens_out += usage.get("completion_tokens") or 0
    return (tokens_in, tokens_out) if seen else (None, None)


def mini_swe_agent(endpoint: Endpoint, cfg: OutsideConfig, sampling: SamplingParams):
    litellm, DefaultAgent, get_config_from_spec, LocalEnvironment, LitellmModel = _import()
    try:
        spec = get_config_from_spec(cfg.mini_config)
    except (FileNotFoundError, ValueError) as exc:
        raise ConfigError(f"cannot load the mini-swe-agent config: {exc}", where="outside.mini_config",
                          fix="name a built-in config (mini, default) or a YAML file") from None
    # after this many attempts at one model call the loop gives up (mini-swe-agent reads it per call)
    os.environ["MSWEA_MODEL_RETRY_STOP_AFTER_ATTEMPT"] = str(cfg.model_retries)
    infra = (litellm.exceptions.APIConnectionError, litellm.exceptions.InternalServerError,
             litellm.exceptions.ServiceUnavailableError, litellm.exceptions.NotFoundError,
             litellm.exceptions.AuthenticationError, litellm.exceptions.Timeout)
    SandboxEnvironment = _environment_class(LocalEnvironment)

    def agent(sandbox: Sandbox, task: Task, log_dir: Path, timeout: float) -> AgentOutcome:
        log_dir.mkdir(parents=True, exist_ok=True)
        model_cfg = spec.get("model") or {}
        model = LitellmModel(**{**model_cfg, "model_name": f"openai/{endpoint.model}", "cost_tracking": "ignore_errors",
                                "model_kwargs": {**(model_cfg.get("model_kwargs") or {}), "api_base": endpoint.base_url,
                                                 "api_key": endpoint.api_key, "temperature": sampling.temperature,
                                                 "top_p": sampling.top_p, "max_tokens": sampling.max_tokens,
                                                 **({"seed": sampling.seed} if sampling.seed is not None else {})}})
        env = SandboxEnvironment(sandbox, time.monotonic() + timeout, **{
            **(spec.get("environment") or {}), "cwd": "/app", "timeout": int(cfg.command_timeout_sec)})
        loop = DefaultAgent(model, env, **{**(spec.get("agent") or {}), "step_limit": cfg.step_limit,
                                           "cost_limit": 0, "wall_time_limit_seconds": max(1, int(timeout)),
                                           "output_path": log_dir / "mini-swe-agent.traj.json"})
        try:
            info = loop.run(task.instruction)
            exit_status = info.get("exit_status", "")
        except infra as exc:
            raise InfraError(f"the model endpoint failed: {type(exc).__name__}: {str(exc)[:500]}",
                             where=endpoint.base_url, fix="check that the server is up and serves "
                                                          f"{endpoint.model!r} (GET /v1/models)") from None
        except litellm.exceptions.BadRequestError as exc:  # the episode outgrew the context, or asked what the
            exit_status = f"{type(exc).__name__}"            # server refuses: the loop's doing
            loop.save(loop.config.output_path, {"info": {"exit_status": exit_status, "error": str(exc)[:2000]}})
        n_tools = sum(len((m.get("extra") or {}).get("actions") or []) for m in loop.messages
                      if isinstance(m, dict) and m.get("role") == "assistant")
        tokens_in, tokens_out = _usage(loop.messages)
        return AgentOutcome(timed_out=exit_status == "TimeExceeded", n_input_tokens=tokens_in,
                            n_output_tokens=tokens_out,
                            metadata={"harness": "mini-swe-agent", "exit_reason": exit_status, "n_tool_calls": n_tools,
                                      "n_model_calls": loop.n_calls, "mini_swe_agent_config": cfg.mini_config})

    return agent
