"""Harbor's current task format, loaded: steps, canary lines, [task].name, the separate verifier,
artifacts, networks -- checked against the fixtures in tests/fixtures/harbor-tasks and, where
the harbor package is installed, against Harbor's own reading of the same files."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT
from tests.tasks.test_task import make_task
from tmax.errors import TaskError
from tmax.tasks import check_task, load_task
from tmax.tasks.config import TaskConfig
from tmax.tasks.harbor_format import agent_network, strip_canary, verifier_environment, verifier_network

HARBOR_TASKS = FIXTURES / "harbor-tasks"
NAMES = ["three-steps", "gated", "separate-verifier", "multi-dim"]


def test_multi_step_task_loads_its_steps_in_order():
    task = load_task(HARBOR_TASKS / "three-steps")
    assert task.name == "tmax-fixtures/three-steps" and task.short_name == "three-steps"  # [task].name
    assert [s.name for s in task.steps] == ["1_create", "2_extend", "3_count"]
    assert [s.config.inherit_prior_session for s in task.steps] == [False, True, False]
    assert task.steps[1].config.dependencies == ["1_create"] and task.steps[0].config.min_reward == 1.0
    # canary lines (HTML or # comments naming a canary) and the blank lines after them are gone
    assert task.steps[0].instruction == "Create /app/notes.txt holding the single line `one`.\n"
    assert task.steps[1].instruction == "Append the line `two` to /app/notes.txt.\n"
    assert task.has_oracle and task.instruction == ""


def test_a_step_as_a_task_has_its_own_instruction_tests_solution_and_timeouts():
    task = load_task(HARBOR_TASKS / "three-steps")
    step = task.for_step("2_extend", session=[{"role": "user", "content": "earlier"}])
    assert step.instruction.startswith("Append") and step.step.name == "2_extend"
    assert step.config.agent.timeout_sec == 60.0  # [steps.agent] overrides [agent]'s 120
    assert task.for_step("3_count").config.agent.timeout_sec == 120.0
    assert step.verifier_uploads == [(HARBOR_TASKS / "three-steps" / "steps" / "2_extend" / "tests", "/tests")]
    assert step.oracle_script == HARBOR_TASKS / "three-steps" / "steps" / "2_extend" / "solution" / "solve.sh"
    assert step.session == [{"role": "user", "content": "earlier"}]
    gated = load_task(HARBOR_TASKS / "gated").for_step("second")  # no step tests: the shared tests/
    assert gated.verifier_uploads == [(HARBOR_TASKS / "gated" / "tests", "/tests")]


def test_canary_stripping_matches_harbors_rule():
    text = "<!-- BENCHMARK DATA canary GUID x -->\n# another canary line\n\n\nDo it.\n# canary later stays\n"
    assert strip_canary(text) == "Do it.\n# canary later stays\n"
    assert strip_canary("Do it.\n") == "Do it.\n"
    assert load_task(HARBOR_TASKS / "multi-dim").instruction == "Write `hello` to /app/greeting.txt.\n"


def test_separate_verifier_from_tests_dockerfile_sees_the_declared_artifacts():
    task = load_task(HARBOR_TASKS / "separate-verifier")
    env = task.verifier_env
    assert env.dockerfile == HARBOR_TASKS / "separate-verifier" / "tests" / "Dockerfile" and env.tests_in_image
    assert env.artifacts == ["/logs/artifacts", "/app/out"] and task.verifier_uploads == []
    # separate without tests/Dockerfile: a fresh sandbox of the agent's own image, tests uploaded
    cfg = TaskConfig.model_validate({"verifier": {"environment_mode": "separate"}, "artifacts": ["/app"]})
    plain = verifier_environment(HARBOR_TASKS / "multi-dim", cfg)
    assert plain.dockerfile == HARBOR_TASKS / "multi-dim" / "environment" / "Dockerfile" and not plain.tests_in_image
    image = TaskConfig.model_validate({"verifier": {"environment": {"docker_image": "grader:1"}}})
    assert verifier_environment(HARBOR_TASKS / "multi-dim", image).docker_image == "grader:1"  # implies separate
    assert verifier_environment(HARBOR_TASKS / "multi-dim", TaskConfig()) is None  # shared


def test_isolated_verifier_takes_the_working_directory_as_the_workspace(tmp_path):
    task = load_task(make_task(tmp_path / "t", dockerfile="FROM debian:bookworm\nWORKDIR /srv/work\n")).isolated()
    assert task.verifier_env.artifacts == ["/logs/artifacts", "/srv/work"]
    bare = load_task(make_task(tmp_path / "bare", dockerfile="FROM debian:bookworm\n"))
    with pytest.raises(TaskError, match="workspace") as info:
        bare.isolated()
    assert 'artifacts = ["/app"]' in info.value.fix


@pytest.mark.parametrize("toml, agent, verifier", [
    ('version = "1.0"\n', (False, "public"), (False, "public")),  # Harbor's default public; tmax offline
    ('[environment]\nnetwork_mode = "public"\n', (True, "public"), (True, "public")),
    ('[environment]\nallow_internet = true\n[verifier]\nnetwork_mode = "no-network"\n',
     (True, "public"), (False, "no-network")),
    ('[agent]\nnetwork_mode = "no-network"\n[verifier]\nnetwork_mode = "public"\n',
     (False, "no-network"), (True, "public")),
    ('[environment]\nnetwork_mode = "allowlist"\nallowed_hosts = ["pypi.org"]\n',
     (False, "allowlist"), (False, "allowlist")),  # no tmax backend limits a network to hosts
])
def test_network_follows_harbor_per_phase_but_is_offline_unless_asked(toml, agent, verifier):
    import tomllib

    config = TaskConfig.model_validate(tomllib.loads(toml))
    a, v = agent_network(config), verifier_network(config)
    assert (a.network, a.harbor) == agent and (v.network, v.harbor) == verifier


def test_a_separate_verifiers_network_is_its_own_environments():
    config = TaskConfig.model_validate({"environment": {"network_mode": "public"},
                                        "verifier": {"environment": {"network_mode": "no-network"}}})
    assert agent_network(config).network and not verifier_network(config, separate=True).network
    assert verifier_network(config, separate=True).source == "verifier.environment.network_mode"


def _problems(path: Path) -> list[tuple[str, str, str]]:
    return [(p.level, p.file, p.message) for p in check_task(path)[1]]


def test_bad_multi_step_tasks_name_the_file_and_the_fix(tmp_path):
    root = make_task(tmp_path / "t", toml='[[steps]]\nname = "a"\n[[steps]]\nname = "b"\ndependencies = ["zz"]\n',
                     instruction=None, test=None, solve=None)
    (root / "steps" / "a").mkdir(parents=True)
    (root / "steps" / "a" / "instruction.md").write_text("<!-- canary -->\n\n")
    found = _problems(root)
    assert ("error", "steps/a/instruction.md", "empty") in found
    assert ("error", "steps/b/instruction.md", "missing") in found
    assert ("error", "steps/a/tests/test.sh", "missing (and no shared tests/test.sh)") in found
    assert any(level == "warning" and "'zz', which is not an earlier step" in m for level, _, m in found)
    with pytest.raises(TaskError, match="steps/a/instruction.md"):
        load_task(root)
    dup = make_task(tmp_path / "dup", toml='[[steps]]\nname = "a"\n[[steps]]\nname = "A"\n')
    assert any("unique" in m for _, _, m in _problems(dup))


def test_artifacts_over_the_verifiers_logs_are_refused(tmp_path):
    root = make_task(tmp_path / "t", toml='artifacts = ["/logs/verifier/x", "relative"]\n')
    found = [m for level, _, m in _problems(root) if level == "error"]
    assert any("overlaps the verifier's or agent's logs" in m for m in found)
    assert any("'relative' must be an absolute path" in m for m in found)


# -- against the harbor package ----------------------------------------------------------------
def _harbor_python() -> str:
    python = os.environ.get("TMAX_HARBOR_PYTHON") or str(ROOT / ".venv-harbor" / "bin" / "python")
    if not Path(python).exists():
        if os.environ.get("TMAX_HARBOR") == "1":
            pytest.fail(f"TMAX_HARBOR=1 but {python} is missing")
        pytest.skip("the harbor package is not installed (scripts/setup-harbor.sh, or set TMAX_HARBOR_PYTHON)")
    return python


_HARBOR_READ = """
import json, sys, warnings
from pathlib import Path
warnings.simplefilter("ignore")
from harbor.models.task.config import TaskConfig
from harbor.models.task.task import Task
from harbor.models.task.verifier_mode import resolve_verifier_environment_definition
out = {}
for d in sys.argv[1:]:
    cfg = TaskConfig.model_validate_toml((Path(d) / "task.toml").read_text())
    task = Task(d)
    defn = resolve_verifier_environment_definition(cfg, task.paths)
    out[Path(d).name] = {
        "name": task.name, "steps": [s.name for s in cfg.steps or []],
        "min_reward": [s.min_reward for s in cfg.steps or []],
        "instructions": [task.step_instruction(s.name) for s in cfg.steps or []] or [task.instruction],
        "separate_dir": str(defn.directory) if defn else None, "bundled": bool(defn and defn.bundled_tests)}
print(json.dumps(out))
"""


def test_harbor_reads_the_fixtures_as_tmax_does():
    done = subprocess.run([_harbor_python(), "-c", _HARBOR_READ, *(str(HARBOR_TASKS / n) for n in NAMES)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    harbor = json.loads(done.stdout)
    for name in NAMES:
        task = load_task(HARBOR_TASKS / name)
        assert harbor[name]["name"] == task.name
        assert harbor[name]["steps"] == [s.name for s in task.steps]
        assert harbor[name]["min_reward"] == [s.config.min_reward for s in task.steps]
        assert harbor[name]["instructions"] == ([s.instruction for s in task.steps] or [task.instruction])
        env = task.verifier_env
        assert harbor[name]["separate_dir"] == (str(env.dockerfile.parent) if env else None)
        assert harbor[name]["bundled"] == bool(env and env.tests_in_image)
