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
    device: str = Field("cpu", description="hf: torch device (vllm picks its own platform).")
    dtype: str = Field("auto", description="hf, vllm: auto (the checkpoint's) | float32 | bfloat16 | float16.")
    fp32_lm_head: bool = Field(False, description="hf, vllm: compute the LM head in fp32.")
    compile: bool | None = Field(None, description="vllm: compile the model (torch.compile; CUDA graphs on GPUs). "
                                                   "None: on GPUs yes, on CPUs no (a minute at a model's first "
                                                   "start, then cached; ~1.3x the tokens/s).")
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

    from tmax.engines.chat import ChatRenderer
    from tmax.engines.policy import TokenPolicy

    renderer = ChatRenderer(AutoTokenizer.from_pretrained(cfg.tokenizer))
    engine = OpenAITokenEngine(client)
    return lambda: TokenPolicy(engine, renderer, cfg.sampling, max_context_tokens=cfg.max_context_tokens)


def _in_process(engine, tokenizer, cfg: EngineConfig) -> PolicyFactory:
    from tmax.engines.batching import Batcher
    from tmax.engines.chat import ChatRenderer
    from tmax.engines.policy import TokenPolicy

    batcher, renderer = Batcher(engine), ChatRenderer(tokenizer)
    return lambda: TokenPolicy(batcher, renderer, cfg.sampling, max_context_tokens=cfg.max_context_tokens)


def load_engine(name: str, model: str, *, device: str = "cpu", dtype: str = "auto", fp32_lm_head: bool = False,
                max_context_tokens: int | None = None, seed: int = 0, compile_model: bool | None = None):
    """An in-process token engine by name: ``hf`` (transformers) or ``vllm``. A vllm engine's
    context is capped at the model's positions (its ``max_model_len``)."""
    if name == "hf":
        from tmax.engines.hf import HFEngine

        return HFEngine.from_pretrained(model, device=device, dtype=dtype, fp32_lm_head=fp32_lm_head)
    if name == "vllm":
        from tmax.engines.vllm import VLLMEngine

        return VLLMEngine(model, dtype=dtype, fp32_lm_head=fp32_lm_head, max_model_len=max_context_tokens, seed=seed,
                          compile_model=compile_model)
    raise ConfigError(f"unknown in-process engine {name!r}", where="engine", fix="choose hf or vllm")


def _hf(cfg: EngineConfig) -> PolicyFactory:
    engine = load_engine("hf", cfg.model, device=cfg.device, dtype=cfg.dtype, fp32_lm_head=cfg.fp32_lm_head)
    return _in_process(engine, engine.tokenizer, cfg)


def _vllm(cfg: EngineConfig) -> PolicyFactory:
    engine = load_engine("vllm", cfg.model, dtype=cfg.dtype, fp32_lm_head=cfg.fp32_lm_head,
                         max_context_tokens=cfg.max_context_tokens, seed=cfg.sampling.seed or 0,
                         compile_model=cfg.compile)
    # episodes get no more context than the engine can hold (the model's positions)
    return _in_process(engine, engine.tokenizer, cfg.model_copy(update={"max_context_tokens": engine.max_model_len}))


ENGINES: dict[str, Callable[[EngineConfig], PolicyFactory]] = {"openai": _openai, "hf": _hf, "vllm": _vllm}


def policy_factory(cfg: EngineConfig) -> PolicyFactory:
    if cfg.name not in ENGINES:
        raise ConfigError(f"unknown engine {cfg.name!r}", where="--agent", fix=f"choose one of: {', '.join(ENGINES)}")
    return ENGINES[cfg.name](cfg)


__all__ = ["ENGINES", "Engine", "EngineConfig", "Sample", "SamplingParams", "load_engine", "policy_factory"]
