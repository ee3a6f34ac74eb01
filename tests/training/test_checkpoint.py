"""Checkpoints resume exactly: training 4 steps straight equals training 2, restoring into a
fresh model and optimizer, and training 2 more (weights bitwise, data cursor, RNG)."""

from __future__ import annotations

import random

import pytest
import torch

from tmax.errors import ConfigError
from tmax.training import checkpoint


def _model(tiny_model_dir):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)


def _step(model, optimizer, cursor: int) -> int:
    """One SGD step on a random batch; the batch depends on the RNGs and on the data cursor."""
    g = torch.Generator().manual_seed(cursor)
    ids = torch.randint(0, 500, (2, 12), generator=g) + torch.randint(0, 5, (1,))  # global RNG too
    noise = random.random()  # python RNG
    loss = model(input_ids=ids, labels=ids).loss * (1 + noise)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return cursor + 2


def test_resume_is_exact(tiny_model_dir, tmp_path):
    torch.manual_seed(0)
    random.seed(0)
    model = _model(tiny_model_dir)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    cursor = 0
    for step in (1, 2):
        cursor = _step(model, optimizer, cursor)
    checkpoint.save(tmp_path, 2, model, optimizer, {"cursor": cursor})
    for step in (3, 4):
        cursor = _step(model, optimizer, cursor)
    straight = {k: v.clone() for k, v in model.state_dict().items()}

    torch.manual_seed(123)  # a different process state before resuming
    random.seed(123)
    fresh = _model(tiny_model_dir)
    fresh_opt = torch.optim.AdamW(fresh.parameters(), lr=1e-3)
    path = checkpoint.latest(tmp_path)
    assert path is not None and path.name == "step-000002"
    state = checkpoint.restore(path, fresh, fresh_opt)
    cursor = state["cursor"]
    assert state["step"] == 2 and cursor == 4
    for step in (3, 4):
        cursor = _step(fresh, fresh_opt, cursor)
    resumed = fresh.state_dict()
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)


def test_a_half_written_checkpoint_is_ignored_and_old_ones_pruned(tiny_model_dir, tmp_path):
    model = _model(tiny_model_dir)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for step in (1, 2, 3):
        checkpoint.save(tmp_path, step, model, optimizer, {}, keep=2)
    names = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert names == ["latest", "step-000002", "step-000003"]
    (tmp_path / "checkpoints" / "step-000004.partial").mkdir()  # a run killed mid-write
    assert checkpoint.latest(tmp_path).name == "step-000003"
    with pytest.raises(ConfigError, match="does not fit the model: size mismatch"):
        from transformers import Qwen3Config, Qwen3ForCausalLM

        other = Qwen3ForCausalLM(Qwen3Config(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                             num_attention_heads=2, num_key_value_heads=1, head_dim=16))
        checkpoint.restore(checkpoint.latest(tmp_path), other, torch.optim.SGD(other.parameters(), lr=0.1))
