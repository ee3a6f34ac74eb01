"""`tmax recipe` end to end at toy size (real sandboxes, a real tiny model), and the presets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tmax.config import apply_overrides, build_config, read_config_file
from tmax.errors import ConfigError
from tmax.recipe import RecipeConfig, run_recipe

STAGES = ["tasks", "oracle", "model", "sft", "eval-sft", "rl", "eval-rl"]


def test_tiny_preset_is_the_embedded_default():
    assert build_config(RecipeConfig, read_config_file(ROOT / "configs" / "tiny.toml"), "tiny.toml") == RecipeConfig()


def test_cluster_preset_loads_and_has_the_tmax_9b_hyperparameters():
    from tmax.rl.config import TrainConfig

    cfg = build_config(TrainConfig, read_config_file(ROOT / "configs" / "qwen3.5-9b.toml"), "qwen3.5-9b.toml")
    assert (cfg.group_size, cfg.tasks_per_step, cfg.lr, cfg.async_steps) == (32, 8, 1e-6, 4)
    assert (cfg.sampling.temperature, cfg.max_context_tokens, cfg.step.delta) == (1.0, 65536, 0.1)
    assert (cfg.step.loss, cfg.step.advantage, cfg.harness.max_tool_calls) == ("dppo_tv", "centered", 64)
    c = cfg.cluster  # 8 nodes x 8 GPUs: 2 nodes train, 6 serve
    assert (c.backend, c.train_processes * c.train_gpus, c.engines * c.engine_gpus) == ("ray", 16, 48)
    assert c.rollout_workers * c.sandboxes_per_worker >= 3 * cfg.group_size * cfg.tasks_per_step


def test_recipe_sections_are_validated_on_load():
    with pytest.raises(ConfigError, match="sft"):
        build_config(RecipeConfig, {"sft": {"epochs": 0}}, "x.toml")
    with pytest.raises(ConfigError, match="rl"):
        build_config(RecipeConfig, {"rl": {"group_sise": 4}}, "x.toml")


def test_toy_recipe_end_to_end_then_resumes_as_done(tmp_path, podman_image):
    cfg = RecipeConfig.model_validate({
        "out": str(tmp_path / "run"), "tasks": {"n_train": 12, "n_rl": 6, "n_heldout": 6},
        "model": {"hidden_size": 64, "num_layers": 1, "num_heads": 2, "num_kv_heads": 1, "max_positions": 2048},
        "sft": {"epochs": 2}, "eval": {"runs": 2, "concurrency": 4, "rl_every": 1, "rl_runs": 2},
        "rl": {"steps": 2, "group_size": 4, "tasks_per_step": 2, "max_pulls": 4, "rollout_concurrency": 4}})
    logs = []
    report = run_recipe(cfg, log=logs.append)
    out = tmp_path / "run"
    stages = json.loads((out / "stages.json").read_text())
    assert list(stages) == STAGES and all(s["done"] for s in stages.values())
    summary = json.loads((out / "report" / "summary.json").read_text())
    assert set(summary["models"]) == {"SFT", "SFT+RL"}
    for model in summary["models"].values():
        assert len(model["run_scores"]) == 2 and model["n_tasks"] == 6 and model["n_errors"] == 0
    assert set(summary["rl_gain"]) == {"gain", "combined_se", "gain_over_2se"}
    lines = [json.loads(line) for line in (out / "rl" / "metrics.jsonl").read_text().splitlines()]
    assert len(lines) == 2
    # held-out evaluation during RL: after step 1 (step 2 is the last: the eval-rl stage scores it)
    assert "heldout_mean" in lines[0] and "heldout_mean" not in lines[1]
    step1 = json.loads((out / "jobs" / "rl-eval-step-0001" / "result.json").read_text())
    assert step1["n_total_trials"] == 12 and 0.0 <= lines[0]["heldout_mean"] <= 1.0
    assert [p["step"] for p in summary["heldout_during_rl"]] == [0, 1, 2]
    assert summary["heldout_during_rl"][0]["mean"] == summary["models"]["SFT"]["mean"]
    assert summary["seed"] == 0 and summary["machine"]["torch"] and summary["machine"]["cores"] >= 1
    assert set(summary["dppo"]) >= {"masked_frac", "abs_log_ratio", "groups_zero_std", "max_staleness"}
    # RL sampled only tasks of the rl split, which the SFT data never showed
    rolled = {json.loads(p.read_text())["task_path"] for p in (out / "rl" / "rollouts").glob("*/result.json")}
    assert rolled and all(Path(p).parent == out / "tasks" / "rl" for p in rolled)
    assert (out / "report" / "curves.png").stat().st_size > 0 and (out / "report" / "score.png").exists()
    assert (out / "report" / "dppo.png").stat().st_size > 0
    text = report.read_text()
    assert "| SFT |" in text and "| SFT+RL |" in text and "RL gain" in text
    assert "Held-out score during RL" in text and "DPPO diagnostics" in text and "Machine:" in text
    # the oracle trajectories were rendered with the recipe's prompts, which the model sees
    oracle = json.loads(next((out / "jobs" / "oracle").glob("*/agent/trajectory.json")).read_text())
    assert oracle["steps"][0]["message"].startswith("Solve the task with the bash tool.")

    logs.clear()
    run_recipe(cfg, log=logs.append)
    assert [line for line in logs if "running" in line] == []
    with pytest.raises(ConfigError, match="different config"):
        run_recipe(cfg.model_copy(update={"sandbox": "podman"}))


def test_config_round_trip_and_one_seed_for_every_stage(tmp_path):
    cfg = build_config(RecipeConfig, {"seed": 3, "tracking": "trackio", "out": str(tmp_path / "r"),
                                      "tasks": {"kinds": ["write_word", "find_word"]}, "eval": {"rl_every": 5}},
                       "x.toml")
    again = RecipeConfig.model_validate(json.loads(json.dumps(cfg.model_dump(mode="json"))))
    assert again == cfg and again.model.seed == 3
    sft, rl = cfg.sft_config("m", ["j"], "o"), cfg.rl_config("m", ["t"], "r")
    assert (sft.seed, rl.seed, cfg.model.seed) == (3, 3, 3)
    assert (sft.tracking.backend, rl.tracking.backend) == ("trackio", "trackio")
    assert sft.tracking.dir == rl.tracking.dir == str((tmp_path / "r" / "trackio").resolve())
    other = cfg.with_seed(7, str(tmp_path / "many" / "seed-7"))
    assert (other.seed, other.model.seed, other.rl_config("m", ["t"], "r").seed) == (7, 7, 7)
    assert other.tasks == cfg.tasks and other.rl == cfg.rl and other.sft == cfg.sft
    track = other.rl_config("m", ["t"], "r").tracking  # seeds of one --seeds run: one project, a group each
    assert (track.project, track.group, track.name) == ("many", "seed-7", "seed-7-rl")
    assert track.dir == str((tmp_path / "many" / "trackio").resolve())


def test_a_new_seed_on_the_shipped_config_changes_every_stage_seed():
    # configs/tiny.toml has [tasks] and [model] sections without a seed: --set seed=5 (and a
    # section setting of its own) must move them all, not clash with the sections' defaults
    data = apply_overrides(read_config_file(ROOT / "configs" / "tiny.toml"), ["seed=5", "model.num_layers=3"])
    cfg = build_config(RecipeConfig, data, "configs/tiny.toml")
    assert (cfg.seed, cfg.model.seed, cfg.model.num_layers, cfg.model.hidden_size) == (5, 5, 3, 256)
    assert cfg.sft_config("m", ["j"], "o").seed == cfg.rl_config("m", ["t"], "r").seed == 5


def test_section_seed_that_contradicts_seed_and_unknown_kinds_are_clear_errors():
    assert build_config(RecipeConfig, {"seed": 2, "tasks": {"seed": 2}}, "x.toml").seed == 2  # repeating it is fine
    with pytest.raises(ConfigError, match="tasks.seed = 1 differs from seed = 2"):
        build_config(RecipeConfig, {"seed": 2, "tasks": {"seed": 1}}, "x.toml")
    with pytest.raises(ConfigError, match="rl.seed"):
        build_config(RecipeConfig, {"rl": {"seed": 5}}, "x.toml")
    with pytest.raises(ConfigError, match="choose from"):
        build_config(RecipeConfig, {"tasks": {"kinds": ["write_words"]}}, "x.toml")


def test_more_tasks_than_the_kinds_have_is_a_config_error_naming_the_fields(tmp_path):
    cfg = RecipeConfig.model_validate({"out": str(tmp_path / "run"), "tasks": {"n_train": 5000, "kinds": ["run_tool"]}})
    with pytest.raises(ConfigError, match="ask for fewer") as caught:
        run_recipe(cfg, log=lambda _: None)
    assert caught.value.where.startswith("[tasks]") and "tasks.kinds" in caught.value.fix
