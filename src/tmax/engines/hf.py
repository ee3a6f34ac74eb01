"""In-process transformers engine (CPU or GPU).

Sampling is a plain loop over the model's forward with a KV cache, so each step's logprob is
taken from the same logits the token was drawn from and no [batch, steps, vocab] tensor is
kept. Per sampled token the engine returns log softmax(logits / T) at that token: the
probability after temperature and before top-p truncation, which is what the trainer can
recompute (with T = 1 and top_p = 1, as in the recipe, it is exactly the sampling
distribution). Prompts of different lengths are left-padded into one batch.

``upcast_lm_head`` keeps the LM head in fp32 (the recipe does; bf16 logits distort the
probabilities of rare tokens). One generate call at a time per engine (a lock): concurrent
callers are batched by ``tmax.engines.batching.Batcher`` instead.
"""

from __future__ import annotations

import inspect
import secrets
import threading
from pathlib import Path

from tmax.engines.base import Sample, SamplingParams
from tmax.errors import ConfigError


def upcast_lm_head(model) -> None:
    """Compute the output projection in fp32. A head tied to the input embeddings gets its own
    fp32 copy (inference engines only; a trainer keeps the tie and casts instead)."""
    import torch

    head = model.get_output_embeddings()
    if head.weight.dtype != torch.float32:
        head.weight = torch.nn.Parameter(head.weight.detach().float().clone(), requires_grad=False)
        head.register_forward_pre_hook(lambda module, args: (args[0].float(), *args[1:]))


def load_model(path: str | Path, *, device: str = "cpu", dtype: str = "auto"):
    """Model and tokenizer from a transformers directory, with a clear error when it is not one."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(path)
    if not (path / "config.json").exists():
        raise ConfigError(f"no model at {path} (config.json missing)", where=str(path),
                          fix="pass a transformers model directory, e.g. one made by `tmax models tiny DIR`")
    torch_dtype = {"auto": "auto", "float32": torch.float32, "bfloat16": torch.bfloat16,
                   "float16": torch.float16}[dtype]
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype).to(device)
    return model.eval(), AutoTokenizer.from_pretrained(path)


def save_model(model, tokenizer, out_dir: str | Path, extra: dict[str, str] | None = None, *,
               state_dict: dict | None = None) -> Path:
    """Model + tokenizer as a transformers dir, atomically: written to ``<out>.partial`` and
    renamed, so a killed write never leaves a half model where a loader would find one.
    ``extra`` maps file names to text written alongside."""
    import shutil

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, state_dict=state_dict)  # state_dict: full weights of a sharded model
    tokenizer.save_pretrained(tmp)
    for name, text in (extra or {}).items():
        (tmp / name).write_text(text)
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return out_dir


class HFEngine:
    def __init__(self, model, tokenizer, *, device: str | None = None, fp32_lm_head: bool = False):
        self.model, self.tokenizer = model, tokenizer
        self.device = device or next(model.parameters()).device
        if fp32_lm_head:
            upcast_lm_head(model)
        eos = model.generation_config.eos_token_id if model.generation_config else None
        self.stop_ids = {tokenizer.eos_token_id, *(eos if isinstance(eos, list) else [eos])} - {None}
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self._lock = threading.Lock()
        # the KV cache's keyword: `cache` from transformers 5.2x on, `past_key_values` before
        self._cache_arg = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
        self.version = 0  # the policy version of the weights (bumped by load_weights)

    def load_weights(self, state_dict: dict, version: int) -> None:
        """Copy the trainer's weights in between two generate calls and record their version."""
        with self._lock:
            self.model.load_state_dict(state_dict, strict=False)
            self.version = version

    @classmethod
    def from_pretrained(cls, path: str | Path, *, device: str = "cpu", dtype: str = "auto",
                        fp32_lm_head: bool = False) -> HFEngine:
        model, tokenizer = load_model(path, device=device, dtype=dtype)
        return cls(model, tokenizer, device=device, fp32_lm_head=fp32_lm_head)

    def generate(self, prompts: list[list[int]], params: SamplingParams) -> list[Sample]:
        with self._lock:
            return self._generate(prompts, params)

    def _generate(self, prompts: list[list[int]], params: SamplingParams) -> list[Sample]:
        import torch

        if not prompts or any(not p for p in prompts):
            raise ValueError("every prompt needs at least one token")
        width = max(map(len, prompts))
        ids = torch.tensor([[self.pad_id] * (width - len(p)) + p for p in prompts], device=self.device)  # [B, L]
        attn = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=self.device)
        positions = (attn.cumsum(-1) - 1).clamp(min=0)
        generator = torch.Generator(device=self.device)
        generator.manual_seed(params.seed if params.seed is not None else secrets.randbits(63))
        batch = len(prompts)
        done = torch.zeros(batch, dtype=torch.bool, device=self.device)
        stop = torch.tensor(sorted(self.stop_ids), device=self.device)
        tokens, logprobs = [], []
        cache = None
        with torch.no_grad():
            for _ in range(params.max_tokens):
                out = self.model(input_ids=ids, attention_mask=attn, position_ids=positions,
                                 use_cache=True, logits_to_keep=1, **{self._cache_arg: cache})
                cache = getattr(out, self._cache_arg)
                token, logprob = _sample(out.logits[:, -1, :].float(), params, generator)  # [B], [B]
                token = torch.where(done, torch.full_like(token, self.pad_id), token)
                tokens.append(token)
                logprobs.append(logprob)
                done |= torch.isin(token, stop)
                if bool(done.all()):
                    break
                ids = token[:, None]
                attn = torch.cat([attn, torch.ones_like(ids)], dim=1)
                positions = positions[:, -1:] + 1
        return self._samples(prompts, torch.stack(tokens, 1).tolist(), torch.stack(logprobs, 1).tolist())

    def _samples(self, prompts, tokens, logprobs) -> list[Sample]:
        samples = []
        for prompt, row, lps in zip(prompts, tokens, logprobs):
            end = next((i + 1 for i, t in enumerate(row) if t in self.stop_ids), None)
            row, lps = (row, lps) if end is None else (row[:end], lps[:end])
            samples.append(Sample(row, lps, self.tokenizer.decode(row, skip_special_tokens=False),
                                  "length" if end is None else "stop", len(prompt)))
        return samples


def _sample(logits, params: SamplingParams, generator):
    """One token per row from [B, V] logits; returns the tokens and their log probabilities
    under softmax(logits / T) (T = 1 for greedy)."""
    import torch

    if params.temperature == 0:
        logp = torch.log_softmax(logits, -1)
        token = logp.argmax(-1)
    else:
        logp = torch.log_softmax(logits / params.temperature, -1)
        probs = logp.exp()
        if params.top_p < 1.0:
            sorted_p, order = probs.sort(-1, descending=True)
            drop = sorted_p.cumsum(-1) - sorted_p > params.top_p  # keep the smallest set reaching top_p
            probs = probs.scatter(-1, order, sorted_p.masked_fill(drop, 0.0))
        token = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
    return token, logp.gather(-1, token[:, None]).squeeze(-1)
