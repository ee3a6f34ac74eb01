"""One DPPO step on rollouts the tiny model sampled itself (engine logprobs as mu): the update
raises the likelihood of replies with positive advantage and lowers it for negative ones."""

from __future__ import annotations

import torch

from tmax.engines import SamplingParams
from tmax.engines.chat import TokenRecord
from tmax.engines.hf import HFEngine
from tmax.training.packing import Sequence, pack
from tmax.training.logprobs import sequence_logprobs
from tmax.rl.step import Group, StepConfig, train_step


def _records(engine, prompt: list[int], n: int, seed: int, max_tokens: int = 12) -> list[TokenRecord]:
    samples = engine.generate([prompt] * n, SamplingParams(max_tokens=max_tokens, seed=seed))
    records = []
    for sample in samples:
        record = TokenRecord()
        record.add_context(prompt)
        record.add_sampled(sample.token_ids, sample.logprobs)
        records.append(record)
    return records


def _sequence_logp(model, record: TokenRecord) -> float:
    [batch] = pack([Sequence.from_record(record, 0.0)], 4096)
    with torch.no_grad():
        logp, _ = sequence_logprobs(model, batch)
    return float(logp.sum())


def test_step_moves_likelihood_with_the_advantage(tiny_model_dir):
    engine = HFEngine.from_pretrained(tiny_model_dir)
    trainer = HFEngine.from_pretrained(tiny_model_dir).model  # a separate copy, as in training
    prompt = engine.tokenizer("<|im_start|>user\nlist files<|im_end|>\n<|im_start|>assistant\n",
                              add_special_tokens=False)["input_ids"]
    records = _records(engine, prompt, 4, seed=0)
    flat = _records(engine, prompt, 3, seed=1)
    groups = [Group("t1", records, [1.0, 0.0, 0.0, 1.0], [0] * 4),
              Group("t2", flat, [1.0, 1.0, 1.0], [0] * 3),          # all equal: filtered out
              Group("t3", [None, records[0]], [None, 1.0], [0, 0])]  # one valid rollout: filtered out
    before = [_sequence_logp(trainer, r) for r in records]
    optimizer = torch.optim.AdamW(trainer.parameters(), lr=3e-3, weight_decay=0.0)
    metrics = train_step(trainer, optimizer, groups, StepConfig())
    after = [_sequence_logp(trainer, r) for r in records]

    assert metrics["n_groups_kept"] == 1 and metrics["n_infra_failed"] == 1 and metrics["n_micro_batches"] == 1
    assert metrics["n_response_tokens"] == sum(len(r.ids) - len(prompt) for r in records)
    # trainer == engine before the step: ratio 1, nothing outside the trust region
    assert metrics["masked_frac"] == 0.0 and metrics["abs_log_ratio"] < 1e-4
    assert after[0] > before[0] and after[3] > before[3]      # A = +0.5
    assert after[1] < before[1] and after[2] < before[2]      # A = -0.5


def test_a_step_with_nothing_to_learn_changes_nothing(tiny_model_dir):
    engine = HFEngine.from_pretrained(tiny_model_dir)
    prompt = engine.tokenizer("hello", add_special_tokens=False)["input_ids"]
    model = engine.model
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    metrics = train_step(model, optimizer, [Group("t", _records(engine, prompt, 2, 0), [0.0, 0.0], [0, 0])],
                         StepConfig())
    assert metrics["n_groups_kept"] == 0 and metrics["n_micro_batches"] == 0
    assert all(torch.equal(weights[k], v) for k, v in model.state_dict().items())
