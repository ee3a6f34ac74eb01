"""Config files and dotted overrides."""

from __future__ import annotations

import pytest

from tmax.config import apply_overrides, build_config, read_config_file
from tmax.errors import ConfigError
from tmax.eval.job import EvalConfig


def test_file_then_overrides_build_a_validated_config(tmp_path):
    path = tmp_path / "eval.toml"
    path.write_text('agent = "openai"\nruns = 3\n[engine]\nmodel = "qwen"\n[engine.sampling]\ntemperature = 0.6\n')
    data = apply_overrides(read_config_file(path), ["engine.sampling.top_p=0.95", "tasks=[a, b]", "runs=5"])
    cfg = build_config(EvalConfig, data, where=str(path))
    assert (cfg.agent, cfg.runs, cfg.tasks) == ("openai", 5, ["a", "b"])
    assert (cfg.engine.model, cfg.engine.sampling.temperature, cfg.engine.sampling.top_p) == ("qwen", 0.6, 0.95)


def test_overrides_leave_the_data_they_were_given_alone():
    data = {"engine": {"sampling": {"temperature": 0.6}}, "runs": 3}
    changed = apply_overrides(data, ["engine.sampling.temperature=1.0", "runs=5"])
    assert data == {"engine": {"sampling": {"temperature": 0.6}}, "runs": 3}  # a config read once can be reused
    assert changed == {"engine": {"sampling": {"temperature": 1.0}}, "runs": 5}


def test_typos_and_bad_values_name_the_field(tmp_path):
    with pytest.raises(ConfigError, match="engine.sampling.temprature"):
        build_config(EvalConfig, apply_overrides({"tasks": ["x"]}, ["engine.sampling.temprature=1"]), where="--set")
    with pytest.raises(ConfigError, match="runs"):
        build_config(EvalConfig, {"tasks": ["x"], "runs": 0}, where="--set")
    with pytest.raises(ConfigError, match="bad override"):
        apply_overrides({}, ["no-equals-sign"])
    (tmp_path / "bad.toml").write_text("runs = = 3")
    with pytest.raises(ConfigError, match="does not parse"):
        read_config_file(tmp_path / "bad.toml")


def _sections(model, prefix=()):
    """The dotted path of every nested section with a default of its own."""
    from tmax.config import model_class

    for name, field in model.model_fields.items():
        sub = model_class(field.annotation)
        if sub is None or field.is_required():
            continue
        if field.get_default(call_default_factory=True) is not None:
            yield (*prefix, name)
            yield from _sections(sub, (*prefix, name))


def _configs():
    from tmax.recipe import RecipeConfig
    from tmax.rl.train import TrainConfig

    # SFTConfig has no nested sections
    return [(EvalConfig, {"tasks": ["x"]}), (TrainConfig, {"model": "m", "tasks": ["x"]}), (RecipeConfig, {})]


@pytest.mark.parametrize("model,required", _configs(), ids=lambda v: getattr(v, "__name__", ""))
def test_an_override_changes_only_the_key_it_names_in_every_nested_section(model, required):
    """`--set model.seed=11` must keep the section's other values (the preset's hidden size,
    say), not reset them to the defaults of the section's class -- also one level down
    (`--set rl.step.delta=0.2` keeps the recipe's rl.step.micro_batch_tokens)."""
    checked = 0
    base = build_config(model, dict(required), where="--set")
    for path in _sections(model):
        section = base
        for part in path:  # the section as the config builds it (a preset may set a sub-section)
            section = getattr(section, part)
        values = section.model_dump()
        leaf = next((k for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)), None)
        if leaf is None:
            continue
        new = values[leaf] + 1
        key = ".".join((*path, leaf))
        try:
            cfg = build_config(model, apply_overrides(dict(required), [f"{key}={new}"]), where="--set")
        except ConfigError:
            continue  # + 1 is out of this field's range
        section = cfg
        for part in path:
            section = getattr(section, part)
        assert section.model_dump() == {**values, leaf: new}, key
        checked += 1
    assert checked >= 1
