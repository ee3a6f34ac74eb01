"""FSDP2 on CPU (gloo): one DPPO step on 2 sharded processes equals the one-process step on the
same groups (weights, loss, grad norm; with gradient checkpointing), and its checkpoint
resumes in one process, and back."""

from __future__ import annotations

import socket

import pytest
import torch
import torch.multiprocessing as mp

from tests.rl.test_step import _records
from tmax.training import checkpoint
from tmax.training.packing import Sequence, pack
from tmax.training.sharding import split_batches
from tmax.rl.step import Group, StepConfig, train_step

CFG = StepConfig(micro_batch_tokens=96)  # several micro-batches, an odd number: one rank pads


def _groups(model_dir) -> list[Group]:
    from tmax.engines.hf import HFEngine

    engine = HFEngine.from_pretrained(model_dir)
    prompt = engine.tokenizer("<|im_start|>user\nlist files<|im_end|>\n<|im_start|>assistant\n",
                              add_special_tokens=False)["input_ids"]
    return [Group(f"t{task}", _records(engine, prompt, 4, seed=task, max_tokens=10 + 7 * task),
                  [1.0, 0.0, 0.5, 0.0], [0] * 4) for task in range(3)]


def _model(model_dir):
    from tmax.engines.hf import load_model

    model, _ = load_model(model_dir, dtype="float32")
    return model


def _sharded_worker(rank: int, world: int, port: int, model_dir, groups, out, resume_from, checkpointing):
    from tmax.training.sharding import full_state_dict, init_process_group, shard

    init_process_group(rank, world, "127.0.0.1", port, "gloo")
    torch.manual_seed(0)
    model = shard(_model(model_dir), gradient_checkpointing=checkpointing)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    if resume_from:
        checkpoint.restore(checkpoint.latest(resume_from), model, optimizer)
    metrics = train_step(model, optimizer, groups, CFG, rank=rank, world=world)
    checkpoint.save(out, 1, model, optimizer, {"cursor": 7})
    weights = full_state_dict(model)
    if rank == 0:
        torch.save({"metrics": metrics, "weights": weights}, f"{out}/result.pt")
    import torch.distributed as dist

    dist.destroy_process_group()


def _run_sharded(world, model_dir, groups, out, resume_from=None, checkpointing=False) -> dict:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.start_processes(_sharded_worker, args=(world, port, model_dir, groups, str(out), resume_from and str(resume_from), checkpointing),
                       nprocs=world, start_method="spawn", join=True)
    return torch.load(f"{out}/result.pt", weights_only=False)


def _assert_close(a: dict, b: dict, atol: float) -> None:
    keys = [k for k in a if not k.endswith("lm_head.weight") or k in b]
    assert keys and all(k in b for k in keys)
    worst = max(float((a[k].float() - b[k].float()).abs().max()) for k in keys)
    assert worst < atol, worst


def test_split_batches_is_balanced_and_deterministic(tiny_model_dir):
    rollouts = [Sequence.from_record(r, 0.5) for g in _groups(tiny_model_dir) for r in g.records]
    batches = pack(rollouts, 96)
    shares = [split_batches(batches, r, 2) for r in range(2)]
    assert sorted(id(b) for s, _ in shares for b in s) == sorted(id(b) for b in batches)  # each batch once
    assert shares[0][1] == shares[1][1] == max(len(s) for s, _ in shares)
    tokens = [sum(b.n_tokens for b in s) for s, _ in shares]
    assert abs(tokens[0] - tokens[1]) <= max(b.n_tokens for b in batches)


@pytest.mark.timeout(300)
def test_two_fsdp_ranks_match_one_process(tiny_model_dir, tmp_path):
    groups = _groups(tiny_model_dir)
    torch.manual_seed(0)
    model = _model(tiny_model_dir)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    single = train_step(model, optimizer, groups, CFG)
    assert single["n_micro_batches"] >= 3 and single["n_micro_batches"] % 2 == 1

    sharded = _run_sharded(2, tiny_model_dir, groups, tmp_path / "two", checkpointing=True)
    for key in ("loss", "grad_norm", "entropy", "abs_log_ratio", "n_response_tokens", "n_micro_batches"):
        assert sharded["metrics"][key] == pytest.approx(single[key], rel=1e-4, abs=1e-6), key
    moved = max(float((model.state_dict()[k] - before[k]).abs().max()) for k in before)
    assert moved > 1e-4  # the step changed the weights, so agreeing below means something
    _assert_close(model.state_dict(), sharded["weights"], atol=1e-5)

    # the 2-rank checkpoint resumes in one process: a second step there equals a second step
    # of the one-process run
    resumed = _model(tiny_model_dir)
    resumed_opt = torch.optim.AdamW(resumed.parameters(), lr=1e-3, weight_decay=0.0)
    state = checkpoint.restore(checkpoint.latest(tmp_path / "two"), resumed, resumed_opt)
    assert state == {"step": 1, "cursor": 7}
    train_step(model, optimizer, groups, CFG)
    train_step(resumed, resumed_opt, groups, CFG)
    _assert_close(model.state_dict(), resumed.state_dict(), atol=1e-5)

    # and a one-process checkpoint resumes on 2 ranks (optimizer moments included)
    checkpoint.save(tmp_path / "one", 1, model, optimizer, {"cursor": 7})
    train_step(model, optimizer, groups, CFG)
    again = _run_sharded(2, tiny_model_dir, groups, tmp_path / "again", resume_from=tmp_path / "one")
    _assert_close(model.state_dict(), again["weights"], atol=1e-5)
