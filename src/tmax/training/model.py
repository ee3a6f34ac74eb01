"""The model a trainer trains, set up once for RL (one process or an FSDP rank) and SFT.

    weights      fp32, from a transformers dir (``tmax.engines.hf.load_model``)
    LM head      fp32 (``upcast_lm_head``: a no-op here, since the body is fp32 too)
    memory       world > 1: FSDP2 shards across the trainer's process group
                 (``tmax.training.sharding``), gradient checkpointing inside them;
                 one process: gradient checkpointing alone, when asked for
    optimizer    AdamW, no weight decay, constant lr (a schedule sets ``param_groups`` itself)
"""

from __future__ import annotations

from pathlib import Path


def load_trainable(path: str | Path, *, device: str, lr: float, gradient_checkpointing: bool = False,
                   rank: int = 0, world: int = 1, address: str | None = None, port: int | None = None):
    """``(model, tokenizer, optimizer)``; with ``world`` > 1 this rank joins the process group
    at ``address:port`` and holds its shard of the weights."""
    import torch

    from tmax.engines.hf import load_model, upcast_lm_head
    from tmax.training.sharding import enable_gradient_checkpointing, init_process_group, shard

    model, tokenizer = load_model(path, device=device, dtype="float32")
    upcast_lm_head(model)  # no-op in fp32; keeps the recipe's fp32 head when the body is bf16
    if world > 1:
        init_process_group(rank, world, address, port)
        shard(model, gradient_checkpointing=gradient_checkpointing)
    elif gradient_checkpointing:
        enable_gradient_checkpointing(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    return model, tokenizer, optimizer
