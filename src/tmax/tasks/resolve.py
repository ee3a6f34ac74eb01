"""Where tasks come from: task dirs, folders of task dirs, globs and dataset files, resolved to a
list of task dirs (used by the CLI, evaluation, RL and dataset tools alike)."""

from __future__ import annotations

import glob
import json
from pathlib import Path

from tmax.errors import ConfigError
from tmax.tasks.task import is_task_dir


def _dataset_file(path: Path) -> list[Path]:
    if path.suffix == ".json":
        entries = json.loads(path.read_text())
        if not isinstance(entries, list):
            raise ConfigError("a dataset .json must be a list of task dirs", where=str(path), fix="write [\"dir\", ...]")
    else:
        entries = [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return [(path.parent / str(e)).resolve() for e in entries]


def resolve_task_dirs(specs: list[str]) -> list[Path]:
    """Task dirs from dirs, folders of task dirs, globs and dataset files, in order, once each."""
    found: list[Path] = []
    for spec in specs:
        paths = [Path(p) for p in sorted(glob.glob(spec))] if any(c in spec for c in "*?[") else [Path(spec)]
        if not paths:
            raise ConfigError(f"no task dirs match {spec!r}", where="TASKS", fix="check the glob")
        for path in paths:
            if path.is_file() and path.suffix in {".txt", ".json"}:
                found += _dataset_file(path)
            elif path.is_dir() and not is_task_dir(path):
                # ``*.partial``: a task dir whose atomic write was interrupted
                inner = sorted(p for p in path.iterdir() if is_task_dir(p) and not p.name.endswith(".partial"))
                found += inner or [path]  # nothing inside: loading reports what is missing
            else:
                found.append(path)
    return list(dict.fromkeys(p.resolve() for p in found))
