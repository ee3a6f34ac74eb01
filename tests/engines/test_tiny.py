"""Tiny models are servable by vLLM: heads of 32 dims or more (its CPU attention kernels need
it), checked when the config is made, with an error that says what to change."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from tmax.cli import app
from tmax.engines.tiny import MIN_HEAD_DIM, TinyConfig
from tmax.recipe.config import RecipeConfig


def test_every_preset_has_heads_vllm_can_serve():
    assert TinyConfig().head_dim == 32
    assert RecipeConfig().model.head_dim == 32  # the tiny recipe's model: 256 wide, 8 heads
    assert MIN_HEAD_DIM == 32


@pytest.mark.parametrize("hidden_size, num_heads", [(64, 4), (100, 3)])  # head_dim 16; not a whole number
def test_narrow_or_uneven_heads_are_refused(hidden_size, num_heads):
    with pytest.raises(ValidationError, match="head_dim"):
        TinyConfig(hidden_size=hidden_size, num_heads=num_heads, num_kv_heads=1)


def test_heads_must_group_over_the_kv_heads():
    with pytest.raises(ValidationError, match="multiple of num_kv_heads"):
        TinyConfig(hidden_size=192, num_heads=3, num_kv_heads=2)


def test_models_tiny_cli_builds_a_servable_model_and_explains_a_bad_shape(tmp_path):
    result = CliRunner().invoke(app, ["models", "tiny", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["head_dim"] == 32 and config["num_attention_heads"] * 32 == config["hidden_size"]
    result = CliRunner().invoke(app, ["models", "tiny", str(tmp_path / "bad"), "--hidden-size", "64", "--num-heads", "4"])
    assert result.exit_code != 0 and "head_dim >= 32" in str(result.exception)
