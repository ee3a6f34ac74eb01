"""Engines put models behind the harness. ``EngineConfig`` + ``policy_factory`` build, by name,
a function that makes a fresh policy per episode (sharing one engine or HTTP client)."""

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
    device: str = Field("cpu", description="hf: torch device.")
    dtype: str = Field("auto", description="hf: auto | float32 | bfloat16 | float16.")
    fp32_lm_head: bool = Field(False, description="hf: compute the LM head in fp32.")
    sampling: SamplingParams = Field(default_factory=SamplingParams)
    max_context_tokens: int | None = Field(65536, description="Episode context budget in tokens.")


PolicyFactory = Callable[[], object]


def _openai(cfg: EngineConfig) -> PolicyFactory:
    from tmax.engines.openai import ChatPolicy, OpenAIClient, OpenAITokenEngine

    if not cfg.model:
        raise ConfigError("no model name given", where="--model", fix="pass the served model name (see GET /v1/models)")
    client = OpenAIClient(cfg.base_url, cfg.model, api_key=os.environ.get(cfg.api_key_env),
                          max_concurrency=cfg.max_concurrency, retries=cfg.retries)
    client.check()
    if cfg.tokenizer is None:
        return lambda: ChatPolicy(client, cfg.sampling, max_context_tokens=cfg.max_context_tokens)
    from transformers import AutoTokenizer

    from tmax.engines.policy import token_policies

    return token_policies(OpenAITokenEngine(client), AutoTokenizer.from_pretrained(cfg.tokenizer), cfg.sampling,
                          max_context_tokens=cfg.max_context_tokens)


def _in_process(engine, tokenizer, cfg: EngineConfig) -> PolicyFactory:
    from tmax.engines.batching import Batcher
    from tmax.engines.policy import token_policies

    return token_policies(Batcher(engine), tokenizer, cfg.sampling, max_context_tokens=cfg.max_context_tokens)


def _hf(cfg: EngineConfig) -> PolicyFactory:
    from tmax.engines.hf import HFEngine

    engine = HFEngine.from_pretrained(cfg.model, device=cfg.device, dtype=cfg.dtype, fp32_lm_head=cfg.fp32_lm_head)
    return _in_process(engine, engine.tokenizer, cfg)


def _vllm(cfg: EngineConfig) -> PolicyFactory:
    from tmax.engines.vllm import VLLMEngine

    engine = VLLMEngine(cfg.model, max_model_len=cfg.max_context_tokens)
    return _in_process(engine, engine.tokenizer, cfg)


ENGINES: dict[str, Callable[[EngineConfig], PolicyFactory]] = {"openai": _openai, "hf": _hf, "vllm": _vllm}


def policy_factory(cfg: EngineConfig) -> PolicyFactory:
    if cfg.name not in ENGINES:
        raise ConfigError(f"unknown engine {cfg.name!r}", where="--agent", fix=f"choose one of: {', '.join(ENGINES)}")
    return ENGINES[cfg.name](cfg)


__all__ = ["ENGINES", "Engine", "EngineConfig", "Sample", "SamplingParams", "policy_factory"]
