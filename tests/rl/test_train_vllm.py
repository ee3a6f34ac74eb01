"""`tmax train` with the vLLM engine in the trainer's process (engine = "vllm"): DPPO steps on
the tiny model in real bwrap sandboxes, mu from vLLM, weights reloaded into vLLM after every
step. With async_steps = 0 every trained rollout was sampled by the weights the trainer holds
at that step, so in fp32 the trainer's pi equals vLLM's mu on every token: nothing is masked
and |log pi - log mu| stays at rounding level while the weights move. A missed reload would
show as the size of the last update."""

from __future__ import annotations

import json
import subprocess

from tests.engines.vllm_support import vllm_env
from tests.rl.reward_tasks import reward_task


def config(tmp_path, tiny_model_dir, engine: str, steps: int = 3) -> str:
    tasks = [str(reward_task(tmp_path / "tasks", f"coin-{i}", "coin")) for i in range(2)]
    return f"""
model = "{tiny_model_dir}"
tasks = {json.dumps(tasks)}
run_dir = "{tmp_path / 'run'}"
engine = "{engine}"
steps = {steps}
group_size = 4
tasks_per_step = 1
max_pulls = 12
async_steps = 0
checkpoint_every = {steps}
rollout_concurrency = 4
sandbox = "bwrap"
lr = 1e-3
max_context_tokens = 2048
[sampling]
max_tokens = 8
seed = 0
[harness]
max_tool_calls = 2
max_format_errors = 1
"""


def test_tmax_train_samples_with_vllm_and_reloads_its_weights(vllm_python, rootfs, tiny_model_dir, tmp_path):
    cfg = tmp_path / "train.toml"
    cfg.write_text(config(tmp_path, tiny_model_dir, "vllm"))
    done = subprocess.run([vllm_python, "-m", "tmax.cli", "train", str(cfg)], capture_output=True, text=True,
                          env=vllm_env(), timeout=400)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    lines = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in lines] == [1, 2, 3]
    trained = [m for m in lines if m["n_groups_kept"] > 0]
    assert len(trained) >= 2 and all(m["grad_norm"] > 0 for m in trained)  # the weights moved
    for m in trained:  # ... and vLLM sampled from the moved weights: mu == pi
        assert m["masked_frac"] == 0.0 and m["abs_log_ratio"] < 1e-5, m
        assert m["max_staleness"] == 0
    assert (tmp_path / "run" / "model" / "config.json").exists()
    trials = list((tmp_path / "run" / "rollouts").glob("*/result.json"))
    assert sum(json.loads(t.read_text())["exception_info"] is None for t in trials) >= 12
