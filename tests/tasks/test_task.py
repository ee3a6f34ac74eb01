"""Loading and validating task dirs: both Harbor forms, Terminal-Bench 1, and bad dirs."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import EXAMPLES
from tmax.cli import app
from tmax.errors import TaskError
from tmax.tasks import check_task, load_task
from tmax.tasks.config import parse_size_mb


def make_task(root: Path, toml: str | None = 'version = "1.0"\n', *, instruction="Do it.\n",
              dockerfile="FROM ubuntu:24.04\n", test="echo 1 > /logs/verifier/reward.txt\n",
              solve="true\n") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    if toml is not None:
        (root / "task.toml").write_text(toml)
    if instruction is not None:
        (root / "instruction.md").write_text(instruction)
    if dockerfile is not None:
        (root / "environment").mkdir(exist_ok=True)
        (root / "environment" / "Dockerfile").write_text(dockerfile)
    if test is not None:
        (root / "tests").mkdir(exist_ok=True)
        (root / "tests" / "test.sh").write_text(test)
    if solve is not None:
        (root / "solution").mkdir(exist_ok=True)
        (root / "solution" / "solve.sh").write_text(solve)
    return root


def test_legacy_and_schema_version_forms_load_with_harbor_defaults(tmp_path):
    legacy = load_task(make_task(tmp_path / "a"))
    assert legacy.config.version == "1.0" and legacy.layout == "harbor"
    assert legacy.config.agent.timeout_sec == 600 and legacy.config.verifier.timeout_sec == 600
    assert legacy.config.environment.memory_mb == 2048 and legacy.config.environment.cpus == 1
    assert legacy.verifier_command == "bash /tests/test.sh"
    assert legacy.oracle_command == "bash /solution/solve.sh"
    newer = load_task(make_task(tmp_path / "b", 'schema_version = "1.1"\n[environment]\nmemory = "4G"\n'
                                                '[verifier]\ntimeout_sec = 30\nenv = { A = "1" }\n'))
    assert newer.config.schema_version == "1.1"
    assert newer.config.environment.memory_mb == 4096
    assert newer.config.verifier.timeout_sec == 30 and newer.config.verifier.env == {"A": "1"}


@pytest.mark.parametrize("text,mb", [(2048, 2048), ("512M", 512), ("2G", 2048), ("1.5GB", 1536), ("1024", 1024)])
def test_sizes(text, mb):
    assert parse_size_mb(text) == mb


@pytest.mark.parametrize("kwargs,file,words", [
    ({"instruction": None}, "instruction.md", "missing"),
    ({"toml": 'version = "1.0"\n[agent\n'}, "task.toml", "TOML"),
    ({"toml": '[agent]\ntimeout_sec = "soon"\n'}, "task.toml", "agent.timeout_sec"),
    ({"test": None}, "tests/test.sh", "missing"),
    ({"dockerfile": "RUN echo\n"}, "environment/Dockerfile", "FROM"),
    ({"dockerfile": None}, "environment/Dockerfile", "docker_image"),
    ({"toml": None}, "task.toml", "missing"),
])
def test_bad_dirs_name_the_file_field_and_fix(tmp_path, kwargs, file, words):
    path = make_task(tmp_path / "bad", **kwargs)
    with pytest.raises(TaskError) as info:
        load_task(path)
    err = info.value
    assert err.where.endswith(file), err.where
    assert words in err.what
    assert err.fix


def test_unknown_keys_and_missing_solution_are_warnings(tmp_path):
    path = make_task(tmp_path / "w", 'version = "1.0"\nfuture = 1\n[agent]\nnew_knob = true\n', solve=None)
    task, problems = check_task(path)
    assert task is not None and not task.has_oracle
    messages = [p.message for p in problems if p.level == "warning"]
    assert any("future" in m for m in messages) and any("agent.new_knob" in m for m in messages)
    assert any("oracle" in m for m in messages)


def test_terminal_bench_1_layout(tmp_path):
    root = tmp_path / "tb1"
    (root / "tests").mkdir(parents=True)
    (root / "task.yaml").write_text("instruction: |\n  Make hello.txt\nmax_agent_timeout_sec: 120\n"
                                    "max_test_timeout_sec: 30\ndifficulty: easy\n")
    (root / "Dockerfile").write_text("FROM ubuntu:24.04\n")
    (root / "run-tests.sh").write_text("pytest $TEST_DIR\n")
    (root / "solution.sh").write_text("touch hello.txt\n")
    task = load_task(root)
    assert task.layout == "tb1" and task.instruction.strip() == "Make hello.txt"
    assert task.config.agent.timeout_sec == 120 and task.config.verifier.timeout_sec == 30
    assert task.verifier_command == "bash /tests/run-tests.sh"
    assert (root / "run-tests.sh", "/tests/run-tests.sh") in task.verifier_uploads
    (root / "run-tests.sh").unlink()
    with pytest.raises(TaskError) as info:
        load_task(root)
    assert info.value.where.endswith("run-tests.sh")


def test_every_example_task_is_valid():
    dirs = sorted(p for p in EXAMPLES.iterdir() if p.is_dir())
    assert len(dirs) >= 4
    for path in dirs:
        task, problems = check_task(path)
        assert task is not None, (path, problems)
        assert task.has_oracle


def test_cli_validate_prints_a_table_and_fails_on_bad_dirs(tmp_path):
    good = make_task(tmp_path / "many" / "good")
    make_task(tmp_path / "many" / "bad", instruction=None)
    runner = CliRunner()
    ok = runner.invoke(app, ["tasks", "validate", str(good)])
    assert ok.exit_code == 0 and "good" in ok.output
    both = runner.invoke(app, ["tasks", "validate", str(tmp_path / "many")])
    assert both.exit_code == 1
    assert "instruction.md" in both.output and "invalid" in both.output


def test_a_missing_task_dir_names_its_path_once(tmp_path):
    from tmax.errors import TaskError

    with pytest.raises(TaskError) as err:
        load_task(tmp_path / "no" / "such")
    assert str(err.value).count(str(tmp_path / "no" / "such")) == 1 and "does not exist" in str(err.value)
