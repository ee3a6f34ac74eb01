"""`tmax train` on a local Ray cluster: 2 rollout workers (real bwrap sandboxes), hf engine
actors and 2 FSDP trainer ranks (gloo). The Ray trainer's step on a fixed batch equals the
one-process step and the engines receive its weights (broadcast from rank 0); a run trains
(weights through the object store), uses both workers, and its checkpoint resumes in one
process."""

from __future__ import annotations

import json

import pytest
import torch

from tests.conftest import EXAMPLES
from tests.training.test_sharding import CFG, _assert_close, _groups, _model

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'tmax[cluster]')")

pytestmark = pytest.mark.timeout(600)


def _config(tmp_path, model_dir, **cluster):
    from tmax.rl.config import TrainConfig

    return TrainConfig.model_validate({
        "model": str(model_dir), "tasks": [str(EXAMPLES / "log-grep"), str(EXAMPLES / "csv-summary")],
        "run_dir": str(tmp_path / "run"), "steps": 3, "group_size": 2, "tasks_per_step": 1, "max_pulls": 2,
        "checkpoint_every": 1, "sandbox": "bwrap", "lr": 1e-3, "step": CFG.model_dump(),
        "sampling": {"max_tokens": 8, "seed": 0}, "harness": {"max_format_errors": 1, "max_tool_calls": 2},
        "cluster": {"backend": "ray", "num_cpus": 6, "rollout_workers": 2, "sandboxes_per_worker": 2,
                    "train_processes": 2, "torch_threads": 1, **cluster},
    })


def test_ray_trainer_ranks_match_one_process(tiny_model_dir, tmp_path):
    from tmax.cluster.train import RayTrainer
    from tmax.rl.step import train_step

    groups = _groups(tiny_model_dir)
    model = _model(tiny_model_dir)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    single = train_step(model, optimizer, groups, CFG)

    trainer = RayTrainer(_config(tmp_path, tiny_model_dir, rollout_workers=1, engines=2, weight_sync="broadcast"))
    try:
        trainer.resume(trainer.cfg.model_dump(mode="json"), {"step": 0, "cursor": 0})
        metrics = trainer.step(groups)
        trainer.sync(1)
        engine_sums = trainer.engine_checksums()
        trainer.save_model(tmp_path / "model")
    finally:
        trainer.close()
    assert not ray.is_initialized()
    for key in ("loss", "grad_norm", "n_response_tokens", "n_micro_batches"):
        assert metrics[key] == pytest.approx(single[key], rel=1e-4, abs=1e-6), key
    # both engine actors got the 2-rank trainer's weights (broadcast from rank 0): those of the
    # one-process step
    expected = float(sum(p.double().sum() for p in model.state_dict().values()))
    assert engine_sums == [pytest.approx(expected, rel=1e-6)] * 2
    _assert_close(model.state_dict(), _model(tmp_path / "model").state_dict(), atol=1e-5)  # rank 0 saved it


class Stop(Exception):
    pass


def _stop_after_step_2(metrics, total):
    if metrics["step"] == 2:
        raise Stop  # as if the job were killed after step 2's checkpoint


def test_ray_run_trains_with_two_workers_and_resumes_in_one_process(rootfs, tiny_model_dir, tmp_path):
    from tmax.errors import ConfigError
    from tmax.cluster import TRAINERS
    from tmax.rl.train import train

    cfg = _config(tmp_path, tiny_model_dir)
    with pytest.raises(Stop):
        train(cfg, TRAINERS["ray"], on_step=_stop_after_step_2)
    run = tmp_path / "run"
    lines = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in lines] == [1, 2]
    assert all(m["n_rollouts"] >= 2 and m["max_staleness"] <= cfg.async_steps for m in lines)
    [record] = [json.loads(l) for l in (run / "cluster.jsonl").read_text().splitlines()]
    assert len(record["workers"]) == 2 and all(w["episodes"] > 0 for w in record["workers"])  # both sampled
    assert all(w["breaker"] == "closed" and w["infra_failed"] == 0 for w in record["workers"])
    trials = list((run / "rollouts").glob("*/result.json"))
    assert len(trials) >= 4 and all(json.loads(t.read_text())["agent_info"]["name"] == "policy" for t in trials)
    assert (run / "checkpoints" / "latest").read_text().strip() == "step-000002"
    assert not ray.is_initialized()

    # the 2-rank run goes on in one process from its step-2 checkpoint: placement may change,
    # what it trains may not
    local = cfg.model_copy(update={"cluster": cfg.cluster.model_copy(update={"backend": "local"})})
    with pytest.raises(ConfigError, match="lr differ"):
        train(local.model_copy(update={"lr": 5e-4}), TRAINERS["local"])
    train(local, TRAINERS["local"])
    lines = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in lines] == [1, 2, 3]
    assert (run / "checkpoints" / "latest").read_text().strip() == "step-000003"
    assert (run / "model" / "config.json").exists()


def test_a_failed_start_leaves_no_ray_instance(tmp_path):
    from tmax.cluster.train import RayTrainer

    cfg = _config(tmp_path, tmp_path / "no-such-model")
    with pytest.raises(Exception, match="no-such-model"):
        RayTrainer(cfg)
    assert not ray.is_initialized()
