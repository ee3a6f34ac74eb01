"""Datasets as files: Parquet export/import round trip (bytes and exec bits), clear errors on bad
input, and Terminal-Bench 1 -> Harbor conversion that loads and still scores."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.envgen.test_data_stats import EXAMPLES, generated_tasks
from tmax.envgen.dataset import (TB1_TEST_SH, convert_tb1, convert_tb1_all, export_parquet, find_tasks,
                                 import_parquet, read_metadata)
from tmax.errors import ConfigError
from tmax.tasks import load_task


def snapshot(task_dir: Path) -> dict[str, tuple[bytes, bool]]:
    """Every file of a dir: relative path -> (bytes, executable)."""
    return {p.relative_to(task_dir).as_posix(): (p.read_bytes(), bool(p.stat().st_mode & 0o111))
            for p in sorted(task_dir.rglob("*")) if p.is_file()}


def test_parquet_round_trip(tmp_path):
    gen = generated_tasks(tmp_path / "gen", 4)  # difficulty 3 ships a gzip fixture: binary content
    assert any(p.suffix == ".gz" for d in gen for p in d.rglob("*"))
    (gen[0] / "environment" / "app" / "tool").write_bytes(b"\x7fELF\x00\x01binary")
    (gen[0] / "environment" / "app" / "tool").chmod(0o755)
    n = export_parquet([tmp_path / "gen", EXAMPLES], tmp_path / "ds" / "tasks.parquet")
    assert n == 10
    written = import_parquet(tmp_path / "ds" / "tasks.parquet", tmp_path / "back")
    assert sorted(p.name for p in written) == sorted([d.name for d in gen] + [d.name for d in EXAMPLES.iterdir()])
    for original in [*gen, *EXAMPLES.iterdir()]:
        assert snapshot(tmp_path / "back" / original.name) == snapshot(original), original.name
    assert snapshot(tmp_path / "back" / gen[0].name)["environment/app/tool"][1] is True
    assert snapshot(tmp_path / "back" / gen[0].name)["tests/test_task.py"][1] is False
    load_task(tmp_path / "back" / gen[0].name)


def test_parquet_columns(tmp_path):
    export_parquet([EXAMPLES / "log-grep", EXAMPLES / "tb1-hello"], tmp_path / "t.parquet")
    rows = {r["name"]: r for r in pq.read_table(tmp_path / "t.parquet").to_pylist()}
    assert rows["log-grep"]["layout"] == "harbor" and rows["tb1-hello"]["layout"] == "tb1"
    assert json.loads(rows["log-grep"]["metadata"])["domain"] == "system_administration"
    assert rows["log-grep"]["instruction"] == (EXAMPLES / "log-grep" / "instruction.md").read_text()
    assert rows["tb1-hello"]["instruction"].startswith("Create a file named /app/hello.txt")
    files = {f["path"]: f for f in rows["tb1-hello"]["files"]}
    assert files["solution.sh"]["executable"] and not files["task.yaml"]["executable"]
    assert files["tests/test_outputs.py"]["content"] == (EXAMPLES / "tb1-hello/tests/test_outputs.py").read_bytes()


def test_hugging_face_datasets_reads_it(tmp_path):
    datasets = pytest.importorskip("datasets")
    export_parquet([EXAMPLES], tmp_path / "t.parquet")
    ds = datasets.load_dataset("parquet", data_files=str(tmp_path / "t.parquet"), split="train",
                               cache_dir=str(tmp_path / "cache"))
    assert len(ds) == 6 and set(ds.column_names) == {"name", "layout", "metadata", "instruction", "files"}


def test_export_refuses_duplicate_names(tmp_path):
    shutil.copytree(EXAMPLES / "log-grep", tmp_path / "a" / "log-grep")
    with pytest.raises(ConfigError, match="two tasks are named 'log-grep'"):
        export_parquet([tmp_path / "a" / "log-grep", EXAMPLES / "log-grep"], tmp_path / "t.parquet")


def test_import_errors(tmp_path):
    with pytest.raises(ConfigError, match="cannot read as Parquet"):
        import_parquet(tmp_path / "missing.parquet", tmp_path / "out")
    (tmp_path / "junk.parquet").write_text("not parquet at all")
    with pytest.raises(ConfigError, match="cannot read as Parquet") as err:
        import_parquet(tmp_path / "junk.parquet", tmp_path / "out")
    assert "fix:" in str(err.value)
    pq.write_table(pa.table({"title": ["x"]}), tmp_path / "other.parquet")
    with pytest.raises(ConfigError, match="no column"):
        import_parquet(tmp_path / "other.parquet", tmp_path / "out")
    evil = [{"name": "t", "files": [{"path": "../../escape.sh", "content": b"x", "executable": True}]}]
    pq.write_table(pa.Table.from_pylist(evil), tmp_path / "evil.parquet")
    with pytest.raises(ConfigError, match="unsafe path"):
        import_parquet(tmp_path / "evil.parquet", tmp_path / "out")
    assert not (tmp_path / "escape.sh").exists()
    wrong = [{"name": "t", "files": ["just a string"]}]
    pq.write_table(pa.Table.from_pylist(wrong), tmp_path / "wrong.parquet")
    with pytest.raises(ConfigError, match="column `files` is not a list of"):
        import_parquet(tmp_path / "wrong.parquet", tmp_path / "out")


def test_find_tasks_errors(tmp_path):
    (tmp_path / "plain").mkdir()
    with pytest.raises(ConfigError, match="not a task dir"):
        find_tasks([tmp_path / "plain"])
    with pytest.raises(ConfigError, match="does not exist"):
        find_tasks([tmp_path / "nope"])
    generated_tasks(tmp_path / "gen", 1)
    (tmp_path / "gen" / "half.partial").mkdir()  # an interrupted write
    (tmp_path / "gen" / "half.partial" / "task.toml").write_text("")
    assert [p.name for p in find_tasks([tmp_path / "gen"])] == ["log_level_census-0-0"]


def test_convert_tb1(tmp_path):
    out = convert_tb1(EXAMPLES / "tb1-hello", tmp_path / "hello")
    original, task = load_task(EXAMPLES / "tb1-hello"), load_task(out)
    assert task.layout == "harbor" and task.instruction.strip() == original.instruction.strip()
    assert task.config.agent.timeout_sec == 180.0 and task.config.verifier.timeout_sec == 60.0
    assert task.metadata["domain"] == "file-operations" and task.metadata["tags"] == ["file-operations", "hello-world"]
    assert read_metadata(out)["converted_from"] == "terminal-bench-1"
    assert (out / "environment" / "Dockerfile").read_bytes() == (EXAMPLES / "tb1-hello" / "Dockerfile").read_bytes()
    assert (out / "tests" / "test.sh").read_text() == TB1_TEST_SH
    assert (out / "tests" / "test_outputs.py").is_file() and (out / "tests" / "run-tests.sh").is_file()
    for script in ("tests/test.sh", "solution/solve.sh"):
        assert os.access(out / script, os.X_OK), script
    assert sorted(p.name for p in (out / "environment").iterdir()) == ["Dockerfile"]


def test_convert_tb1_keeps_the_build_context(tmp_path):
    src = tmp_path / "tb1" / "with-data"
    shutil.copytree(EXAMPLES / "tb1-hello", src)
    (src / "data.csv").write_text("a,b\n")
    (src / "Dockerfile").write_text((src / "Dockerfile").read_text() + "COPY data.csv /app/data.csv\n")
    (converted,) = convert_tb1_all([tmp_path / "tb1"], tmp_path / "harbor")
    assert converted == tmp_path / "harbor" / "with-data"
    assert (converted / "environment" / "data.csv").read_text() == "a,b\n"


def test_convert_tb1_errors(tmp_path):
    with pytest.raises(ConfigError, match="not a Terminal-Bench 1 task dir"):
        convert_tb1(EXAMPLES / "log-grep", tmp_path / "x")
    with pytest.raises(ConfigError, match="not Terminal-Bench 1 tasks"):
        convert_tb1_all([EXAMPLES], tmp_path / "out")
    src = shutil.copytree(EXAMPLES / "tb1-hello", tmp_path / "hello")
    with pytest.raises(ConfigError, match="output dir is the task dir"):
        convert_tb1(src, src)
    assert (src / "task.yaml").is_file()


def test_converted_tb1_task_still_scores(tmp_path, rootfs):
    from tmax.trial import run_trial

    task = load_task(convert_tb1(EXAMPLES / "tb1-hello", tmp_path / "hello"))
    oracle = run_trial(task, tmp_path / "jobs", agent="oracle", backend="bwrap")
    noop = run_trial(task, tmp_path / "jobs", agent="noop", backend="bwrap")
    assert (oracle.reward, oracle.error) == (1.0, None)
    assert (noop.reward, noop.error) == (0.0, None)


def test_a_multi_step_tasks_instruction_is_its_steps_in_order():
    from tests.conftest import FIXTURES
    from tmax.envgen.contamination import task_texts
    from tmax.envgen.dataset import read_instruction

    task = FIXTURES / "harbor-tasks" / "three-steps"
    text = read_instruction(task)
    assert text.index("notes.txt holding") < text.index("Append the line") < text.index("number of lines")
    assert "steps/2_extend/tests/test.sh" in [source for source, _ in task_texts(task)]
