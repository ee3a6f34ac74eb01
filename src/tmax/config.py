"""Config files and dotted overrides shared by the CLI verbs.

A verb's config is a pydantic model. It is built from, in order: the model's defaults, a TOML
(or YAML) file given with ``--config``, the verb's own options, then ``--set a.b=value``
overrides (values parsed as YAML scalars: ``--set engine.sampling.temperature=0.6``). The
resolved config is saved with every job.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from tmax.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def read_config_file(path: Path) -> dict:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror}", where=str(path), fix="check the path") from exc
    try:
        data = tomllib.loads(text) if Path(path).suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"config file does not parse: {exc}", where=str(path), fix="fix the syntax") from exc
    if not isinstance(data, dict):
        raise ConfigError("a config file must hold a table of settings", where=str(path), fix="write key = value lines")
    return data


def set_dotted(data: dict, key: str, value) -> None:
    *parents, last = key.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{part!r} is a value, not a section", where=f"--set {key}", fix="check the key path")
    node[last] = value


def apply_overrides(data: dict, sets: list[str]) -> dict:
    """A copy of ``data`` with each ``key.sub=value`` of ``sets`` applied (YAML values); ``data``
    itself is left as it was."""
    data = copy.deepcopy(data)
    for item in sets:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"bad override {item!r}", where="--set", fix="write --set section.key=value")
        set_dotted(data, key.strip(), yaml.safe_load(raw) if raw.strip() else "")
    return data


def model_class(annotation) -> type[BaseModel] | None:
    """The pydantic model a field holds (``X`` or ``X | None``), if any."""
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = _deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def with_defaults(model: type[BaseModel], data: dict) -> dict:
    """``data`` laid over the defaults of every nested section it names, so that a partial
    section (``[model] seed = 11``, ``--set model.seed=11``) changes only the keys it names and
    keeps the rest of the section's own default -- not the defaults of the section's class."""
    out = dict(data)
    for name, field in model.model_fields.items():
        key = field.alias or name
        sub = model_class(field.annotation)
        if sub is None or not isinstance(out.get(key), dict):
            continue
        default = None if field.is_required() else field.get_default(call_default_factory=True)
        # the outer default first (a preset's sub-section beats the sub-section class's default),
        # and only the fields that default sets itself: the rest are the class's own defaults and
        # come back on validation (dumping them would pin, e.g., a section's seed to 0)
        value = _deep_merge(default.model_dump(exclude_unset=True), out[key]) if isinstance(default, BaseModel) else out[key]
        out[key] = with_defaults(sub, value)
    return out


def build_config(model: type[M], data: dict, where: str) -> M:
    try:
        return model.model_validate(with_defaults(model, data))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid settings: {problems}", where=where, fix="see `--help` for the fields") from exc
