"""Token logprobs of the trainer policy without materialising ``[tokens, vocab]`` logits.

At a 150k vocabulary the logits of a 64k-token row are 40 GB in fp32, plus as much again for
their gradient: the LM head, not the transformer body, sets the trainer's peak memory. So
``token_logprobs`` walks the tokens in chunks and keeps only ``[chunk]`` results per chunk:

    z_t = h_t·Wᵀ / T                         (fp32; T = sampling temperature)
    log π(y_t) = z_t[y_t] − lse_t,           lse_t = log Σ_v exp z_t[v]
    H_t = −Σ_v p_t[v] log p_t[v],            p_t = softmax(z_t)        (entropy, nats)
    ∂L/∂z_t = g_t · (onehot(y_t) − p_t) / T,  ∂L/∂h_t = ∂L/∂z_t · W,  ∂L/∂W = Σ_t ∂L/∂z_tᵀ h_t

It is activation checkpointing written out by hand (a ``torch.autograd.Function``): the
forward saves only ``h``, ``W``, the targets and ``lse [N]``; the backward recomputes one
chunk's logits at a time, turns them into ∂L/∂z in place and adds ``∂L/∂zᵀ h`` into a single
fp32 weight-gradient buffer (``addmm_``). Wrapping an autograd chunk in
``torch.utils.checkpoint`` also avoids ``[N, V]`` tensors, but autograd then keeps about four
``[chunk, V]`` temporaries plus a second ``[V, H]`` gradient per chunk: at N = 4096,
H = 1024, V = 151,936, chunk 1024 its peak was 31.5% of the full-logits one against 19.0%
here, and 1.4× slower on CPU (``benchmarks/train_memory.py`` measures all three). Peak extra
memory here: about two ``[chunk, V]`` fp32 tensors plus the ``[V, H]`` fp32 weight gradient,
whatever N is.

The engine reports log softmax(logits / T) at the sampled token (``tmax.engines.hf``), so with
the same T the trainer's logp is directly comparable with ``logp_old``. The recipe keeps the
LM head in fp32: hidden states are cast to fp32 per chunk, the weight once per pass (a bf16
weight costs one fp32 ``[V, H]`` copy; a fp32 head costs none). Entropy is a diagnostic: it
is returned without gradient (the recipe has no entropy bonus).
"""

from __future__ import annotations

import torch
from torch import Tensor

from tmax.training.packing import PackedBatch, attention_mask_4d


class _ChunkedLogprob(torch.autograd.Function):
    """``(logp [N], entropy [N])`` of ``targets`` under softmax(hidden·Wᵀ / T), chunk-wise."""

    @staticmethod
    def forward(ctx, hidden: Tensor, weight: Tensor, targets: Tensor, temperature: float, chunk: int):
        w = weight.float()                                                         # [V, H]
        n = hidden.shape[0]
        logp, entropy, lse = (hidden.new_empty(n, dtype=torch.float32) for _ in range(3))   # [N] each
        for s in range(0, n, chunk):
            z = hidden[s:s + chunk].float() @ w.t()                                # [c, V]
            if temperature != 1.0:
                z.div_(temperature)
            lse[s:s + chunk] = torch.logsumexp(z, dim=-1)
            z.sub_(lse[s:s + chunk, None])                                         # [c, V] log-softmax, in place
            logp[s:s + chunk] = z.gather(-1, targets[s:s + chunk, None]).squeeze(-1)
            entropy[s:s + chunk] = -torch.einsum("cv,cv->c", z.exp(), z)           # no [c, V] product
        ctx.save_for_backward(hidden, weight, targets, lse)
        ctx.temperature, ctx.chunk = temperature, chunk
        ctx.mark_non_differentiable(entropy)
        return logp, entropy

    @staticmethod
    def backward(ctx, grad_logp: Tensor, _grad_entropy: Tensor):
        hidden, weight, targets, lse = ctx.saved_tensors
        temperature, chunk = ctx.temperature, ctx.chunk
        w = weight.float()                                                         # [V, H]
        want_h, want_w = ctx.needs_input_grad[:2]
        grad_h = torch.empty(hidden.shape, dtype=torch.float32, device=hidden.device) if want_h else None
        grad_w = torch.zeros_like(w) if want_w else None                           # [V, H] fp32 accumulator
        for s in range(0, hidden.shape[0], chunk):
            h, y = hidden[s:s + chunk].float(), targets[s:s + chunk]               # [c, H], [c]
            z = h @ w.t()                                                          # [c, V]
            if temperature != 1.0:
                z.div_(temperature)
            z.sub_(lse[s:s + chunk, None]).exp_().neg_()                           # −p, in place
            z.scatter_add_(-1, y[:, None], torch.ones_like(z[:, :1]))              # onehot − p
            z.mul_(grad_logp[s:s + chunk, None] / temperature)                     # ∂L/∂z [c, V]
            if want_h:
                grad_h[s:s + chunk] = z @ w                                        # [c, H]
            if want_w:
                grad_w.addmm_(z.t(), h)                                            # [V, H]
        return (grad_h.to(hidden.dtype) if want_h else None,
                grad_w.to(weight.dtype) if want_w else None, None, None, None)


def token_logprobs(hidden: Tensor, weight: Tensor, targets: Tensor, temperature: float = 1.0,
                   chunk: int = 1024) -> tuple[Tensor, Tensor]:
    """``(logp [N], entropy [N])`` of ``targets [N]`` under softmax(hidden·Wᵀ / T), in fp32.

    ``hidden [N, H]``, ``weight [V, H]`` (the LM head, no bias). Gradients flow to ``hidden``
    and ``weight`` through ``logp`` (in their own dtypes); ``entropy`` is detached. ``chunk``
    tokens at a time, forward and backward.
    """
    if hidden.dim() != 2 or weight.dim() != 2 or hidden.shape[1] != weight.shape[1]:
        raise ValueError(f"need hidden [N, H] and weight [V, H], got {tuple(hidden.shape)} and {tuple(weight.shape)}")
    if targets.shape != hidden.shape[:1]:
        raise ValueError(f"targets must be [N] = [{hidden.shape[0]}], got {tuple(targets.shape)}")
    if temperature <= 0 or chunk < 1:
        raise ValueError(f"temperature must be > 0 and chunk ≥ 1, got {temperature} and {chunk}")
    return _ChunkedLogprob.apply(hidden, weight, targets.long(), float(temperature), int(chunk))


def _attention_kwargs(model, batch: PackedBatch) -> dict:
    """How to keep attention inside each packed rollout for this model's attention kernel:
    flash kernels (and flex) take the restarts of ``position_ids`` as sequence boundaries, so
    no mask is passed (an L² mask would not fit at long context); sdpa and eager get the
    explicit block-diagonal mask (boolean for sdpa, additive for eager)."""
    impl = getattr(model.config, "_attn_implementation", None) or "eager"
    if impl == "sdpa":
        return {"attention_mask": attention_mask_4d(batch.seq_ids)}
    if impl == "eager":
        return {"attention_mask": attention_mask_4d(batch.seq_ids, dtype=model.dtype)}
    return {}


def sequence_logprobs(model, batch: PackedBatch, temperature: float = 1.0, chunk: int = 1024,
                      *, all_tokens: bool = False) -> tuple[Tensor, Tensor]:
    """Trainer ``(logp, entropy)``, both ``[1, L]``, of ``batch.targets`` for a causal LM
    (``Qwen3ForCausalLM`` layout: ``model.model`` is the body, ``model.lm_head`` the head).

    The body runs once on the packed row; the head runs through ``token_logprobs`` in fp32.
    By default only positions with ``loss_mask`` 1 go through the head (prompt and tool-output
    targets never enter the loss, and they are most of a terminal episode); the others are 0.
    ``all_tokens=True`` computes every position. A sharded model (``tmax.training.sharding.shard``)
    runs the same computation as an FSDP forward method, so its head is gathered first.
    """
    sharded = getattr(model, "tmax_sequence_logprobs", None)
    if sharded is not None:
        return sharded(batch, temperature, chunk, all_tokens=all_tokens)
    return body_and_head_logprobs(model, batch, temperature, chunk, all_tokens=all_tokens)


def body_and_head_logprobs(model, batch: PackedBatch, temperature: float = 1.0, chunk: int = 1024,
                           *, all_tokens: bool = False) -> tuple[Tensor, Tensor]:
    """``sequence_logprobs`` itself: the body on the packed row, then the fp32 chunked head."""
    device = next(model.parameters()).device
    batch = batch.to(device)
    out = model.model(input_ids=batch.input_ids, position_ids=batch.position_ids, use_cache=False,
                      **_attention_kwargs(model, batch))
    hidden = out.last_hidden_state[0]                                             # [L, H]
    targets = batch.targets[0]                                                    # [L]
    if all_tokens:
        logp, entropy = token_logprobs(hidden, model.lm_head.weight, targets, temperature, chunk)
        return logp[None], entropy[None]                                          # [1, L]
    where = batch.loss_mask[0].bool().nonzero().squeeze(-1)                        # [n_resp]
    lp, ent = token_logprobs(hidden[where], model.lm_head.weight, targets[where], temperature, chunk)
    logp = torch.zeros(targets.shape, dtype=lp.dtype, device=device).index_put((where,), lp)       # [L]
    entropy = torch.zeros(targets.shape, dtype=ent.dtype, device=device).index_put((where,), ent)  # [L]
    return logp[None], entropy[None]
