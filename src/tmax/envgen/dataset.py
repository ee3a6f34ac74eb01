"""Task datasets as files: find task dirs, read their metadata, move them in and out of Parquet,
and convert Terminal-Bench 1 tasks to the Harbor layout.

Parquet holds one row per task::

    name         string   the task dir's name
    layout       string   "harbor" or "tb1"
    metadata     string   task.toml's [metadata] as JSON (domain falls back to category)
    instruction  string
    files        list<struct<path: string, content: binary, executable: bool>>   every file

so ``datasets.load_dataset("parquet", data_files=...)`` reads it as is, and ``import_parquet``
restores byte-identical dirs with their exec bits.
"""

from __future__ import annotations

import json
import os
import shutil
import tomllib
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

import yaml

from tmax.errors import ConfigError
from tmax.tasks import is_task_dir

_TASK_FIX = "pass task dirs (task.toml or Terminal-Bench 1 task.yaml) or folders of them"
_SKIP_DIRS = {"__pycache__", ".git"}  # build and VCS debris, never part of a task
_BATCH = 64  # rows per Parquet row group: bounded memory for 15k-task datasets


def find_tasks(specs: Iterable[str | Path]) -> list[Path]:
    """Task dirs from task dirs, folders of task dirs, globs and dataset files (.txt/.json lists).

    Leftover ``*.partial`` dirs of an interrupted generation are skipped (by the resolver).
    """
    from tmax.tasks import resolve_task_dirs

    specs = [str(s) for s in specs]
    for spec in specs:
        if not any(c in spec for c in "*?[") and not Path(spec).exists():
            raise ConfigError("does not exist", where=spec, fix=_TASK_FIX)
    found = resolve_task_dirs(specs)
    for path in found:
        if not is_task_dir(path):
            raise ConfigError("is not a task dir: no task.toml or task.yaml", where=str(path), fix=_TASK_FIX)
    if not found:
        raise ConfigError("no task dirs found", where=", ".join(specs), fix=_TASK_FIX)
    return found


def _read_tb1_yaml(task_dir: Path) -> dict:
    try:
        raw = yaml.safe_load((task_dir / "task.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"unreadable task.yaml: {exc}", where=str(task_dir),
                          fix=f"run `tmax tasks validate {task_dir}`") from exc
    if not isinstance(raw, dict):
        raise ConfigError("task.yaml is not a mapping", where=str(task_dir), fix="write `key: value` pairs")
    return raw


def read_metadata(task_dir: Path) -> dict:
    """The task's metadata without loading the whole task (as ``Task.metadata``: domain falls back
    to category)."""
    from tmax.tasks.task import _tb1_config  # the one TB1 -> Harbor key mapping

    task_dir = Path(task_dir)
    if (task_dir / "task.toml").is_file():
        try:
            meta = tomllib.loads((task_dir / "task.toml").read_text()).get("metadata") or {}
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"unreadable task.toml: {exc}", where=str(task_dir),
                              fix=f"run `tmax tasks validate {task_dir}`") from exc
    elif (task_dir / "task.yaml").is_file():
        meta = _tb1_config(_read_tb1_yaml(task_dir))["metadata"]
    else:
        raise ConfigError("is not a task dir: no task.toml or task.yaml", where=str(task_dir), fix=_TASK_FIX)
    meta = dict(meta) if isinstance(meta, dict) else {}
    if "domain" not in meta and "category" in meta:
        meta["domain"] = meta["category"]
    return meta


def read_instruction(task_dir: Path) -> str:
    """instruction.md, a multi-step task's step instructions (in order, one after another), or a
    TB1 task.yaml's instruction ("" when there is none)."""
    task_dir = Path(task_dir)
    if (task_dir / "instruction.md").is_file():
        return (task_dir / "instruction.md").read_text(errors="replace")
    steps = sorted((task_dir / "steps").glob("*/instruction.md"))
    if steps:
        try:
            order = [s["name"] for s in tomllib.loads((task_dir / "task.toml").read_text()).get("steps", [])]
        except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError):
            order = []
        steps.sort(key=lambda p: order.index(p.parent.name) if p.parent.name in order else len(order))
        return "\n".join(p.read_text(errors="replace") for p in steps)
    if (task_dir / "task.yaml").is_file():
        raw = _read_tb1_yaml(task_dir)
        text = raw.get("instruction")
        if text is None and isinstance(raw.get("descriptions"), list) and raw["descriptions"]:
            text = raw["descriptions"][0].get("description")
        return str(text or "")
    return ""


def task_files(task_dir: Path) -> Iterator[tuple[str, Path]]:
    """(posix path relative to the task dir, file) for every regular file, sorted; symlinks to
    files are followed (their content is what a build would see)."""
    for root, dirs, names in os.walk(task_dir):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(names):
            path = Path(root) / name
            if path.is_file():
                yield path.relative_to(task_dir).as_posix(), path


# ---- Parquet ---------------------------------------------------------------------------------

def _schema():
    import pyarrow as pa

    file = pa.struct([("path", pa.string()), ("content", pa.binary()), ("executable", pa.bool_())])
    return pa.schema([("name", pa.string()), ("layout", pa.string()), ("metadata", pa.string()),
                      ("instruction", pa.string()), ("files", pa.list_(file))])


def _row(task_dir: Path) -> dict:
    files = [{"path": rel, "content": path.read_bytes(), "executable": bool(path.stat().st_mode & 0o111)}
             for rel, path in task_files(task_dir)]
    return {"name": task_dir.name, "layout": "harbor" if (task_dir / "task.toml").is_file() else "tb1",
            "metadata": json.dumps(read_metadata(task_dir), sort_keys=True, default=str),
            "instruction": read_instruction(task_dir), "files": files}


def export_parquet(task_dirs: Iterable[str | Path], path: str | Path) -> int:
    """Write every task (found as ``find_tasks`` does) to one Parquet file; returns the row count."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    dirs = find_tasks(task_dirs)
    seen: dict[str, Path] = {}
    for d in dirs:  # names become dir names on import: two tasks of one name would collide
        if d.name in seen:
            raise ConfigError(f"two tasks are named {d.name!r}: {seen[d.name]} and {d}", where="export",
                              fix="rename one of them, or export them to separate files")
        seen[d.name] = d
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    with pq.ParquetWriter(tmp, _schema(), compression="zstd") as writer:
        for start in range(0, len(dirs), _BATCH):
            rows = [_row(d) for d in dirs[start:start + _BATCH]]
            writer.write_table(pa.Table.from_pylist(rows, schema=_schema()))
    tmp.replace(path)
    return len(dirs)


def _safe_rel(rel: str, where: str) -> PurePosixPath:
    """A relative path that stays inside its dir (a downloaded file is untrusted input)."""
    p = PurePosixPath(rel)
    if not rel or p.is_absolute() or ".." in p.parts or "\\" in rel:
        raise ConfigError(f"unsafe path {rel!r} in the Parquet file", where=where,
                          fix="only import datasets written by `tmax data export` (or with relative file paths)")
    return p


def _write_row(row: dict, out_dir: Path, where: str) -> Path:
    name = str(row.get("name") or "")
    _safe_rel(name, where)
    if "/" in name:
        raise ConfigError(f"task name {name!r} holds a '/'", where=where, fix="task names are single dir names")
    files = row.get("files") or []
    if not isinstance(files, list) or not all(
            isinstance(e, dict) and isinstance(e.get("path"), str) and isinstance(e.get("content"), (bytes, type(None)))
            for e in files):
        raise ConfigError(f"task {name!r}: column `files` is not a list of {{path: string, content: binary, "
                          f"executable: bool}}", where=where,
                          fix="write the file with `tmax data export`, or give `files` that type")
    dest = out_dir / name
    tmp = dest.with_name(name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for entry in files:
        target = tmp / _safe_rel(entry["path"], where)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(entry["content"] or b"")
        target.chmod(0o755 if entry.get("executable") else 0o644)
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return dest


def import_parquet(path: str | Path, out_dir: str | Path) -> list[Path]:
    """Restore every task of a Parquet file under ``out_dir``; returns the task dirs written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path, out_dir = Path(path), Path(out_dir)
    fix = "pass a .parquet file written by `tmax data export` (columns name, files[path, content, executable])"
    try:
        parquet = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        raise ConfigError(f"cannot read as Parquet: {exc}", where=str(path), fix=fix) from exc
    missing = {"name", "files"} - set(parquet.schema_arrow.names)
    if missing:
        raise ConfigError(f"no column(s) {sorted(missing)}", where=str(path), fix=fix)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for batch in parquet.iter_batches(batch_size=_BATCH, columns=["name", "files"]):
        written += [_write_row(row, out_dir, str(path)) for row in batch.to_pylist()]
    return written


# ---- Terminal-Bench 1 -> Harbor --------------------------------------------------------------

TB1_TEST_SH = """#!/bin/bash
# Converted from Terminal-Bench 1: run its test runner; reward 1 when it exits 0, else 0.
mkdir -p /logs/verifier
export TEST_DIR="${TEST_DIR:-/tests}"
bash /tests/run-tests.sh
status=$?
if [ "$status" -eq 0 ]; then echo 1 > /logs/verifier/reward.txt; else echo 0 > /logs/verifier/reward.txt; fi
exit "$status"
"""
_TB1_OWN = {"task.yaml", "solution.sh", "solution.yaml", "run-tests.sh", "tests"}  # not build context


def _toml_scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_scalar(v) for v in value) + "]"
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def _task_toml(config: dict) -> str:
    lines = ['version = "1.0"']
    for section in ("metadata", "verifier", "agent", "environment"):
        lines += ["", f"[{section}]"] + [f"{k} = {_toml_scalar(v)}" for k, v in config.get(section, {}).items()]
    return "\n".join(lines) + "\n"


def convert_tb1(tb1_dir: str | Path, out_dir: str | Path) -> Path:
    """Write the Terminal-Bench 1 task ``tb1_dir`` as the Harbor task dir ``out_dir``.

    task.yaml -> task.toml (same mapping ``load_task`` uses) + instruction.md; Dockerfile and the
    rest of the build context -> environment/; tests/ and run-tests.sh -> tests/ with a test.sh
    that turns run-tests.sh's exit code into reward.txt; solution.sh -> solution/solve.sh.
    """
    from tmax.tasks import load_task
    from tmax.tasks.task import _tb1_config

    src, dest = Path(tb1_dir), Path(out_dir)
    if dest.resolve().is_relative_to(src.resolve()):  # the output replaces dest: never the source
        raise ConfigError("the output dir is the task dir itself or inside it", where=str(dest),
                          fix="write the converted task somewhere else, e.g. a new folder beside it")
    if not (src / "task.yaml").is_file():
        raise ConfigError("is not a Terminal-Bench 1 task dir: no task.yaml", where=str(src),
                          fix="pass a dir holding task.yaml, Dockerfile, run-tests.sh, tests/, solution.sh")
    if not (src / "run-tests.sh").is_file():
        raise ConfigError("has no run-tests.sh", where=str(src), fix="add the TB1 test runner, then convert")
    if {"test.sh", "run-tests.sh"} & {p.name for p in (src / "tests").glob("*")}:
        raise ConfigError("tests/ already holds test.sh or run-tests.sh", where=str(src),
                          fix="rename that file; the converted task needs those names")
    config = _tb1_config(_read_tb1_yaml(src))
    config["metadata"] = {**config["metadata"], "converted_from": "terminal-bench-1"}
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "environment").mkdir(parents=True)
    for item in sorted(src.iterdir()):
        if item.name not in _TB1_OWN and item.name not in _SKIP_DIRS:
            copy = shutil.copytree if item.is_dir() else shutil.copy2
            copy(item, tmp / "environment" / item.name)
    if (src / "tests").is_dir():
        shutil.copytree(src / "tests", tmp / "tests", ignore=shutil.ignore_patterns(*_SKIP_DIRS))
    (tmp / "tests").mkdir(exist_ok=True)
    shutil.copy2(src / "run-tests.sh", tmp / "tests" / "run-tests.sh")
    (tmp / "tests" / "test.sh").write_text(TB1_TEST_SH)
    (tmp / "tests" / "test.sh").chmod(0o755)
    if (src / "solution.sh").is_file():
        (tmp / "solution").mkdir()
        shutil.copy2(src / "solution.sh", tmp / "solution" / "solve.sh")
        (tmp / "solution" / "solve.sh").chmod(0o755)
    (tmp / "instruction.md").write_text(read_instruction(src).strip() + "\n")
    (tmp / "task.toml").write_text(_task_toml(config))
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    load_task(dest)  # a conversion that does not load is a bug here, not a task for later to trip on
    return dest


def convert_tb1_all(specs: Iterable[str | Path], out_root: str | Path) -> list[Path]:
    """Convert every TB1 task found in ``specs`` to ``out_root/<name>``; Harbor tasks are refused."""
    dirs = find_tasks(specs)
    harbor = [d for d in dirs if not (d / "task.yaml").is_file()]
    if harbor:
        raise ConfigError(f"{len(harbor)} task(s) are not Terminal-Bench 1 tasks, e.g. {harbor[0]}",
                          where="convert-tb1", fix="pass only TB1 task dirs (with task.yaml)")
    return [convert_tb1(d, Path(out_root) / d.name) for d in dirs]
