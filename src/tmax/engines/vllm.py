"""In-process vLLM engine for GPU machines (``pip install 'tmax[vllm]'``).

Prompts go in as token ids and the sampled ids and their logprobs come back untouched.
vLLM is started with ``logprobs_mode="processed_logprobs"`` so the logprobs are taken after
temperature, as the DPPO loss expects. ``load_weights`` pushes new weights from the trainer
into the running engine (single-process executor), so rollouts can follow the policy
without a restart.

Not exercised by tmax's CI (no GPU there, no vLLM on the lent GPU machines either); the
``hf`` engine implements the same protocol and is what the tests run.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from tmax.engines.base import Sample, SamplingParams
from tmax.errors import ConfigError


class VLLMEngine:
    def __init__(self, model: str, *, gpu_memory_utilization: float = 0.85, max_model_len: int | None = None,
                 dtype: str = "auto", seed: int = 0, **kwargs):
        try:
            import vllm
        except ImportError as exc:
            raise ConfigError("vLLM is not installed", where="--agent vllm",
                              fix="pip install 'tmax[vllm]' on a CUDA machine, or use --agent hf") from exc
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # weights live in this process
        self._vllm = vllm
        self.llm = vllm.LLM(model=model, gpu_memory_utilization=gpu_memory_utilization, max_model_len=max_model_len,
                            dtype=dtype, seed=seed, logprobs_mode="processed_logprobs", **kwargs)
        self.tokenizer = self.llm.get_tokenizer()
        self.version = 0

    def generate(self, prompts: list[list[int]], params: SamplingParams) -> list[Sample]:
        sampling = self._vllm.SamplingParams(temperature=params.temperature, top_p=params.top_p,
                                             max_tokens=params.max_tokens, logprobs=0, seed=params.seed,
                                             skip_special_tokens=False)
        inputs = [{"prompt_token_ids": p} for p in prompts]
        samples = []
        for prompt, output in zip(prompts, self.llm.generate(inputs, sampling, use_tqdm=False)):
            out = output.outputs[0]
            ids = list(out.token_ids)
            logprobs = [step[token].logprob for step, token in zip(out.logprobs, ids)]
            samples.append(Sample(ids, logprobs, out.text, "stop" if out.finish_reason == "stop" else "length",
                                  len(prompt)))
        return samples

    def load_weights(self, weights: dict | Iterable[tuple[str, "object"]], version: int | None = None) -> None:
        """Load a state dict or (name, tensor) pairs from the trainer into the served model, drop
        the prefix cache, and record the policy ``version`` of the new weights."""
        model = self.llm.llm_engine.model_executor.driver_worker.worker.model_runner.model
        model.load_weights(weights.items() if isinstance(weights, dict) else weights)
        self.llm.reset_prefix_cache()
        if version is not None:
            self.version = version
