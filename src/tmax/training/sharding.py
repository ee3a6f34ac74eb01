"""Sharded training with FSDP2: the same DPPO step on N processes, each holding 1/N of the weights.

    init_process_group(rank, world, address, port)       gloo on CPU, nccl on GPU
    shard(model)                                         fully_shard each decoder layer, then the root
                                                         (optionally with gradient checkpointing)
    train_step(..., rank=r, world=N)                     each rank runs its share of micro-batches
    full_state_dict(model) / optimizer_state(...)        gathered on rank 0 (checkpoints, weight sync)
    load_state(model, optimizer, weights, optim)         rank 0's full state, broadcast into the shards

How the step stays equal to the one-process step (tested: ``tests/training/test_sharding.py``):

- every rank builds the same packed micro-batches from the same groups (packing is
  deterministic) and takes its share (``split_batches``: largest first onto the rank with the
  fewest tokens). A rank with fewer micro-batches runs a dummy one with its loss times 0, so
  every rank joins every all-gather and reduce-scatter;
- the loss of every micro-batch is divided by the response-token count of the whole step
  (``aggregate``), and FSDP is told to sum gradients across ranks, not average them
  (``set_gradient_divide_factor(1)``): the summed gradient is the one-process gradient;
- gradient clipping works on the sharded gradients (``clip_grad_norm_`` over DTensors
  computes the global norm).

The fp32 LM head under sharding: the head, embeddings and final norm belong to the root's
FSDP group. ``sequence_logprobs`` runs the body and then the chunked head on
``lm_head.weight`` itself, never calling ``model.forward``, so the root would not gather its
parameters; ``shard`` registers the logprob computation as a forward method of the root
(``register_fsdp_forward_method``), which makes FSDP gather the head before it and
reduce-scatter its gradient after the backward. The head keeps its own dtype (fp32 in the
recipe); ``param_dtype`` (e.g. bf16) applies to the decoder layers only.

Checkpoints hold full (unsharded) tensors keyed by parameter name, the same files a
one-process run writes, so a run resumes on any number of processes (``tmax.training.checkpoint``).
Rank 0 holds the full state in CPU memory while saving and loading: fine up to ~10B
parameters on a node with enough RAM; larger models want ``torch.distributed.checkpoint``.
"""

from __future__ import annotations

import types

import torch

from tmax.training.packing import PackedBatch


def init_process_group(rank: int, world: int, address: str, port: int, backend: str | None = None) -> None:
    """Join the trainer's process group (``backend``: nccl when CUDA is available, else gloo)."""
    import torch.distributed as dist

    if dist.is_initialized():
        return
    backend = backend or ("nccl" if torch.cuda.is_available() else "gloo")
    if backend == "nccl":
        torch.cuda.set_device(torch.cuda.current_device())
    dist.init_process_group(backend, init_method=f"tcp://{address}:{port}", rank=rank, world_size=world)


def enable_gradient_checkpointing(model) -> None:
    """Recompute each decoder layer's activations in the backward (non-reentrant: works under FSDP)."""
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})


def shard(model, *, param_dtype: torch.dtype | None = None, reshard_after_forward: bool = True,
          gradient_checkpointing: bool = False):
    """Shard a causal LM (``model.model.layers``, ``model.lm_head``) across the process group."""
    if gradient_checkpointing:
        enable_gradient_checkpointing(model)
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard, register_fsdp_forward_method

    from tmax.training.logprobs import body_and_head_logprobs

    device = "cuda" if next(model.parameters()).is_cuda else "cpu"
    mesh = init_device_mesh(device, (dist.get_world_size(),))
    layers = MixedPrecisionPolicy(param_dtype=param_dtype, reduce_dtype=torch.float32)
    for layer in model.model.layers:
        fully_shard(layer, mesh=mesh, mp_policy=layers, reshard_after_forward=reshard_after_forward)
    fully_shard(model, mesh=mesh, mp_policy=MixedPrecisionPolicy(reduce_dtype=torch.float32),
                reshard_after_forward=reshard_after_forward)
    for module in (*model.model.layers, model):  # per FSDP module, not inherited
        module.set_gradient_divide_factor(1.0)  # sum across ranks: the loss is already token-normalised
        module.set_force_sum_reduction_for_comms(True)  # a plain SUM (gloo has no pre-multiplied sum)

    def logprobs(self, *args, **kwargs):  # fresh tensors, not views: FSDP hooks the outputs
        return tuple(t.clone() for t in body_and_head_logprobs(self, *args, **kwargs))

    model.tmax_sequence_logprobs = types.MethodType(logprobs, model)
    register_fsdp_forward_method(model, "tmax_sequence_logprobs")
    return model


def split_batches(batches: list[PackedBatch], rank: int, world: int) -> tuple[list[PackedBatch], int]:
    """This rank's micro-batches and how many micro-batches every rank runs (the most any rank
    got; the others pad with dummy ones). Largest first, each to the rank with the fewest tokens
    so far (ties: lowest rank): the same answer on every rank."""
    load, mine = [0] * world, [[] for _ in range(world)]
    for batch in sorted(batches, key=lambda b: -b.n_tokens):
        r = min(range(world), key=lambda i: (load[i], i))
        load[r] += batch.n_tokens
        mine[r].append(batch)
    return mine[rank], max((len(m) for m in mine), default=0)


def all_reduce_sum(values: list[float]) -> list[float]:
    """Sum floats across the process group (the identity without one)."""
    import torch.distributed as dist

    if not dist.is_initialized() or dist.get_world_size() == 1:
        return values
    t = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(t)
    return t.tolist()


def _options(**kw):
    from torch.distributed.checkpoint.state_dict import StateDictOptions

    return StateDictOptions(full_state_dict=True, cpu_offload=True, **kw)


def full_state_dict(model) -> dict:
    """Full weights on CPU (on rank 0; other ranks get an empty dict). Every rank must call it."""
    from torch.distributed.checkpoint.state_dict import get_model_state_dict

    return get_model_state_dict(model, options=_options())


def optimizer_state(model, optimizer) -> dict:
    """The optimizer state keyed by parameter name, full tensors on CPU (rank 0)."""
    from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict

    return get_optimizer_state_dict(model, optimizer, options=_options())


def load_state(model, optimizer, weights: dict, optim: dict | None) -> None:
    """Load full state dicts (as ``full_state_dict``/``optimizer_state`` return) into a sharded or
    plain model; with a process group only rank 0 needs them (they are broadcast)."""
    import torch.distributed as dist
    from torch.distributed.checkpoint.state_dict import set_model_state_dict, set_optimizer_state_dict

    sharded = dist.is_initialized() and dist.get_world_size() > 1
    options = _options(broadcast_from_rank0=sharded, strict=False)
    result = set_model_state_dict(model, weights, options=options)
    missing = [k for k in result.missing_keys if not k.endswith("lm_head.weight")]  # tied heads are saved once
    if (missing or result.unexpected_keys) and (not sharded or dist.get_rank() == 0):
        raise KeyError(f"missing {missing[:5]}, unexpected {list(result.unexpected_keys)[:5]}")
    if optim is not None:
        set_optimizer_state_dict(model, optimizer, optim, options=_options(broadcast_from_rank0=sharded))
