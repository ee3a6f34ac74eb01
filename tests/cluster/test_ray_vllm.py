"""`tmax train` on a local Ray cluster with a vLLM engine actor (cluster.engine = "vllm"): the
actor samples for a rollout worker in real bwrap sandboxes and takes the trainer rank's weights
through the object store after every step; with async_steps 0 the rank's pi equals the
actor's mu (fp32 on CPU) on every step while the weights move."""

from __future__ import annotations

import json
import subprocess

from tests.engines.vllm_support import vllm_env
from tests.rl.test_train_vllm import config

CLUSTER = """
[cluster]
backend = "ray"
num_cpus = 4
engine = "vllm"
engines = 1
rollout_workers = 1
sandboxes_per_worker = 4
train_processes = 1
torch_threads = 1
"""


def test_ray_engine_actor_on_vllm_follows_the_trainer(vllm_python, rootfs, tiny_model_dir, tmp_path):
    cfg = tmp_path / "train.toml"
    cfg.write_text(config(tmp_path, tiny_model_dir, "hf", steps=2) + CLUSTER)  # the local engine key is unused
    done = subprocess.run([vllm_python, "-m", "tmax.cli", "train", str(cfg)], capture_output=True, text=True,
                          env=vllm_env(), timeout=400)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    lines = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in lines] == [1, 2]
    assert all(m["n_groups_kept"] == 1 and m["grad_norm"] > 0 for m in lines)
    assert all(m["masked_frac"] == 0.0 and m["abs_log_ratio"] < 1e-5 for m in lines), lines
    assert json.loads((tmp_path / "run" / "cluster.jsonl").read_text().splitlines()[-1])["workers"][0]["episodes"] >= 8
