"""`tmax sft`: masked cross-entropy on oracle trajectories collected in real sandboxes."""

from __future__ import annotations

import json

import pytest

from tmax.errors import ConfigError
from tmax.sft.train import SFTConfig, load_records, lr_at, train_sft


@pytest.fixture(scope="module")
def oracle_job(tmp_path_factory):
    from tests.conftest import podman_ready

    if podman_ready():
        pytest.skip(podman_ready())
    from tmax.envgen.starter import split
    from tmax.eval.job import EvalConfig, run_eval

    root = tmp_path_factory.mktemp("sft")
    train, _ = split(root / "tasks", 8, 6)
    return run_eval(EvalConfig(tasks=[str(train)], agent="stepwise", sandbox="bwrap", jobs_dir=str(root / "jobs"),
                               job_name="oracle", concurrency=2))


def test_sft_learns_the_assistant_turns_and_resumes(oracle_job, tiny_model_dir, tmp_path):
    from tmax.engines.hf import load_model

    cfg = SFTConfig(model=str(tiny_model_dir), jobs=[str(oracle_job)], out=str(tmp_path / "sft"), epochs=10,
                    lr=3e-3, examples_per_step=4, min_tool_calls=3, micro_batch_tokens=4096)
    steps = []
    model_dir = train_sft(cfg, on_step=lambda m, total: steps.append(m))
    assert len(steps) == 10 * 2 and steps[-1]["step"] == 20
    assert steps[-1]["loss"] < 0.5 * steps[0]["loss"]
    model, tokenizer = load_model(model_dir)
    records = load_records(cfg, tokenizer)
    assert len(records) == 8
    # only assistant turns are trained: the masked tokens decode to tool calls and end-of-turn
    masked = tokenizer.decode([i for i, m in zip(records[0].ids, records[0].mask) if m])
    assert masked.count("<tool_call>") == masked.count("<|im_end|>") >= 4 and "exit code" not in masked
    assert sum(m["n_response_tokens"] for m in steps[:2]) == sum(sum(r.mask) for r in records)
    lines = (tmp_path / "sft" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == list(range(1, 21))
    assert train_sft(cfg, on_step=lambda m, total: pytest.fail("a finished run trained again")) == model_dir
    with pytest.raises(ConfigError, match="different config"):
        train_sft(cfg.model_copy(update={"lr": 1e-4}))


def test_no_usable_trajectory_is_a_clear_error(oracle_job, tiny_model_dir, tmp_path):
    cfg = SFTConfig(model=str(tiny_model_dir), jobs=[str(oracle_job)], out=str(tmp_path / "sft"), min_tool_calls=50)
    with pytest.raises(ConfigError, match="no trajectory"):
        train_sft(cfg)
    with pytest.raises(ConfigError, match="does not exist"):
        train_sft(cfg.model_copy(update={"jobs": [str(tmp_path / "nope")], "out": str(tmp_path / "sft2")}))


def test_lr_schedule_warms_up_then_holds_or_decays_to_zero():
    base = {"model": "m", "jobs": ["j"], "lr": 1e-3, "warmup_steps": 4}
    constant, cosine = SFTConfig(**base), SFTConfig(**base, lr_schedule="cosine")
    assert [lr_at(constant, s, 10) for s in (0, 3, 4, 9)] == pytest.approx([2.5e-4, 1e-3, 1e-3, 1e-3])
    # cosine over the 6 steps after warmup: step 4 at the peak, step 7 half way, step 10 at 0
    assert [lr_at(cosine, s, 10) for s in (3, 4, 7, 10)] == pytest.approx([1e-3, 1e-3, 5e-4, 0.0])
