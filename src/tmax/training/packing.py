"""Sequence packing: sequences → micro-batches of one packed row each, no padding.

A ``Sequence`` is one episode in token space (``TokenRecord``: ids, mask 1 = the tokens to
train on, the engine's logprobs) plus the weight of its loss: an RL rollout with its advantage,
or an SFT trajectory with advantage 1 (``tmax.sft.train``). ``pack`` concatenates whole sequences into rows of at
most ``max_tokens`` tokens with first-fit-decreasing (longest first, each into the first row
with room): sequences vary from a few hundred to tens of thousands of tokens, and FFD fills
rows far better than greedy in-order packing while staying deterministic. Each row is one
``PackedBatch`` of ``[1, L]`` tensors, L ≤ max_tokens (no padding, so no compute is spent on it).

Next-token bookkeeping, per sequence of n tokens x_0..x_{n-1}: position i predicts
``targets[i] = x_{i+1}``, so ``loss_mask[i] = mask[i+1]`` and ``logp_old[i] = logprobs[i+1]``;
the last position has no target (loss_mask 0). Tool-output and prompt tokens are context only.

Attention must stay inside each sequence. ``position_ids`` restart at 0 at each sequence and
``seq_ids`` name the sequence of each token. Two ways to isolate them in transformers 5:

- ``attention_mask_4d(seq_ids)``: a block-diagonal causal mask ``[1, 1, L, L]``, passed as
  ``attention_mask`` (transformers uses a 4D mask as given). Works for ``sdpa`` (boolean mask)
  and ``eager`` (additive float mask), on CPU and GPU. Costs L² bytes: fine for tests and
  short rows, 4 GiB at L = 65,536.
- ``position_ids`` alone, no ``attention_mask``: flash-attention kernels read the restarts as
  varlen boundaries (``cu_seqlens``), and for sdpa/eager transformers' ``create_causal_mask``
  detects the restarts and builds the same block mask itself. This is the path for long rows
  on GPU (``flash_attention_2``/``3``); ``tmax.training.logprobs.sequence_logprobs`` picks it there.
  Pitfall (checked in the tests): the detection is skipped whenever a KV cache exists, and
  ``use_cache`` defaults to True, so without ``use_cache=False`` the sequences silently
  attend to each other (no error, wrong logits).

Invalid (infra-failed) sequences get loss mask 0 everywhere; since they then add nothing to
any loss or token count, ``pack`` leaves them (and any sequence without a sampled target token)
out of the rows instead of spending a forward pass on them; ``pack_stats`` counts them.
A sequence longer than ``max_tokens`` is truncated from the right (its tail is lost: a warning
is logged and ``n_truncated_tokens`` counts it); pass ``truncate=False`` to raise instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import torch
from torch import Tensor

from tmax.engines.chat import TokenRecord

log = logging.getLogger(__name__)


@dataclass
class Sequence:
    """One episode ready for training: its tokens, loss mask and the engine's logprobs, plus the
    advantage of its outcome (1 in SFT). ``version`` is the policy version that sampled it
    (RL staleness)."""

    ids: list[int]
    mask: list[int]
    logprobs: list[float]
    advantage: float
    valid: bool = True
    version: int | None = None

    def __post_init__(self):
        if not len(self.ids) == len(self.mask) == len(self.logprobs):
            raise ValueError(f"sequence has {len(self.ids)} ids, {len(self.mask)} mask entries and "
                             f"{len(self.logprobs)} logprobs; they must be equal (one per token)")

    @classmethod
    def from_record(cls, record: TokenRecord, advantage: float, *, valid: bool = True,
                    version: int | None = None) -> Sequence:
        return cls(list(record.ids), list(record.mask), list(record.logprobs), float(advantage), valid, version)

    @property
    def trainable(self) -> bool:
        """True when some target token would enter the loss (a sampled token after position 0)."""
        return self.valid and any(self.mask[1:])


@dataclass
class PackedBatch:
    """One packed row; every tensor is ``[1, L]``. ``sequence_index[k]`` is the index (in the
    list given to ``pack``) of the sequence with ``seq_ids == k``; ``versions`` likewise."""

    input_ids: Tensor        # [1, L] long
    position_ids: Tensor     # [1, L] long, 0 at each sequence start
    seq_ids: Tensor          # [1, L] long, 0..k-1 within this row
    targets: Tensor          # [1, L] long, next token (0 where there is none)
    loss_mask: Tensor        # [1, L] float, 1 where the target was sampled by the policy
    logp_old: Tensor         # [1, L] float, engine logprob of the target (0 outside the mask)
    advantages: Tensor       # [1, L] float, the sequence's advantage on every position
    n_response_tokens: int
    sequence_index: list[int] = field(default_factory=list)
    versions: list[int | None] = field(default_factory=list)
    n_truncated_tokens: int = 0

    @property
    def n_tokens(self) -> int:
        return self.input_ids.shape[1]

    def to(self, device) -> PackedBatch:
        """A copy with every tensor on ``device``."""
        moved = {k: (v.to(device) if isinstance(v, Tensor) else v) for k, v in vars(self).items()}
        return PackedBatch(**moved)


def _row(sequences: list[Sequence], index: list[int], max_tokens: int) -> PackedBatch:
    """Concatenate ``sequences`` (already known to fit, after truncation) into one row."""
    cols: dict[str, list] = {k: [] for k in ("ids", "pos", "seq", "tgt", "mask", "lp", "adv")}
    truncated = 0
    for k, r in enumerate(sequences):
        n = min(len(r.ids), max_tokens)
        truncated += len(r.ids) - n
        ids, mask, lps = r.ids[:n], r.mask[:n], r.logprobs[:n]
        keep = 1 if r.valid else 0
        cols["ids"] += ids
        cols["pos"] += range(n)
        cols["seq"] += [k] * n
        cols["tgt"] += ids[1:] + [0]
        cols["mask"] += [m * keep for m in mask[1:]] + [0]
        cols["lp"] += [lp if m and keep else 0.0 for lp, m in zip(lps[1:], mask[1:])] + [0.0]
        cols["adv"] += [float(r.advantage)] * n
    long = {k: torch.tensor([cols[k]], dtype=torch.long) for k in ("ids", "pos", "seq", "tgt")}
    loss_mask = torch.tensor([cols["mask"]], dtype=torch.float32)
    return PackedBatch(long["ids"], long["pos"], long["seq"], long["tgt"], loss_mask,
                       torch.tensor([cols["lp"]], dtype=torch.float32),
                       torch.tensor([cols["adv"]], dtype=torch.float32),
                       int(loss_mask.sum().item()), index, [r.version for r in sequences], truncated)


def pack(sequences: list[Sequence], max_tokens: int, *, truncate: bool = True) -> list[PackedBatch]:
    """First-fit-decreasing packing of ``sequences`` into rows of at most ``max_tokens`` tokens.

    Rows come out in the order they were opened (the first holds the longest sequence).
    Sequences that are invalid or have no sampled target token are left out (no gradient).
    Over-long sequences are cut to ``max_tokens`` (``truncate=True``) or raise ``ValueError``.
    """
    if max_tokens < 2:
        raise ValueError(f"max_tokens must be at least 2 (one input and its target), got {max_tokens}")
    keep = [i for i, r in enumerate(sequences) if r.trainable]
    too_long = [i for i in keep if len(sequences[i].ids) > max_tokens]
    if too_long and not truncate:
        raise ValueError(f"{len(too_long)} sequences exceed max_tokens={max_tokens} (longest "
                         f"{max(len(sequences[i].ids) for i in too_long)}); raise max_tokens or pass truncate=True")
    if too_long:
        lost = sum(len(sequences[i].ids) - max_tokens for i in too_long)
        log.warning("truncated %d sequences to max_tokens=%d (%d tokens dropped from their ends)",
                    len(too_long), max_tokens, lost)
    order = sorted(keep, key=lambda i: -len(sequences[i].ids))  # stable: ties keep input order
    bins: list[list[int]] = []
    room: list[int] = []
    for i in order:
        n = min(len(sequences[i].ids), max_tokens)
        slot = next((b for b, free in enumerate(room) if free >= n), None)
        if slot is None:
            bins.append([])
            room.append(max_tokens)
            slot = len(bins) - 1
        bins[slot].append(i)
        room[slot] -= n
    return [_row([sequences[i] for i in b], b, max_tokens) for b in bins]


def pack_stats(batches: list[PackedBatch], n_sequences: int, max_tokens: int) -> dict[str, float]:
    """Totals for logging: rows, tokens, fill (tokens / row capacity), response tokens (the
    ``n_tokens`` to give ``losses.aggregate`` for the whole optimizer batch), truncation and
    the sequences left out (invalid or nothing to train on)."""
    tokens = sum(b.n_tokens for b in batches)
    packed = sum(len(b.sequence_index) for b in batches)
    return {"n_batches": len(batches), "n_tokens": tokens,
            "fill": tokens / (len(batches) * max_tokens) if batches else 0.0,
            "n_response_tokens": sum(b.n_response_tokens for b in batches),
            "n_truncated_tokens": sum(b.n_truncated_tokens for b in batches),
            "n_skipped": n_sequences - packed}


def attention_mask_4d(seq_ids: Tensor, dtype: torch.dtype | None = None) -> Tensor:
    """Block-diagonal causal mask ``[B, 1, L, L]`` from ``seq_ids [B, L]``: query q may attend
    to key k iff k ≤ q and both belong to the same sequence.

    ``dtype=None`` gives a boolean mask (True = attend; for ``sdpa``). A float dtype gives the
    additive form (0 / most negative finite value; for ``eager``, which adds the mask to the
    scores). Keys in a row never attend across a restart, so the result equals each sequence
    run on its own.
    """
    L = seq_ids.shape[-1]
    same = seq_ids[:, :, None] == seq_ids[:, None, :]                                  # [B, L, L]
    causal = torch.ones(L, L, dtype=torch.bool, device=seq_ids.device).tril()           # [L, L]
    allowed = (same & causal)[:, None]                                                  # [B, 1, L, L]
    if dtype is None:
        return allowed
    zero = torch.zeros((), dtype=dtype, device=seq_ids.device)
    return torch.where(allowed, zero, torch.finfo(dtype).min)
