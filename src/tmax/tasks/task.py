"""The Task: one terminal task directory, in Harbor or Terminal-Bench 1 layout.

Harbor layout::

    task.toml  instruction.md  environment/Dockerfile  tests/test.sh  solution/solve.sh

Terminal-Bench 1 layout::

    task.yaml  Dockerfile (or docker-compose.yaml)  run-tests.sh  tests/  solution.sh

Both load into the same ``Task``: what to build, what to upload where, and which command
runs the verifier or the oracle. Harbor's newer features (multi-step tasks, canary lines,
``[task].name``, the separate verifier, artifacts, network modes) are read by
``tmax.tasks.harbor_format``; ``Task.for_step`` gives one step as a task of its own.
``check_task`` lists every problem of a directory; ``load_task`` raises the first error as a
``TaskError`` naming the file, field and fix.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import ValidationError

from tmax.errors import TaskError
from tmax.tasks import harbor_format
from tmax.tasks.config import TaskConfig
from tmax.tasks.harbor_format import Step, VerifierEnvironment, strip_canary


@dataclass
class Problem:
    level: Literal["error", "warning"]
    file: str
    message: str
    fix: str = ""


@dataclass
class Task:
    path: Path
    name: str
    layout: Literal["harbor", "tb1"]
    instruction: str
    config: TaskConfig
    build_context: Path
    dockerfile: Path | None
    compose_file: Path | None
    verifier_uploads: list[tuple[Path, str]]
    verifier_command: str
    oracle_uploads: list[tuple[Path, str]] = field(default_factory=list)
    oracle_command: str | None = None
    oracle_script: Path | None = None
    """The reference solution's entry script on the host (solve.sh or solution.sh)."""
    parser_name: str | None = None
    """Terminal-Bench 1: how the test output is scored (``pytest``, TB1's default)."""
    steps: list[Step] = field(default_factory=list)
    """A multi-step task's steps, in order (empty for a single-step task)."""
    verifier_env: VerifierEnvironment | None = None
    """Set when the verifier runs in a fresh sandbox of its own (Harbor's separate verifier)."""
    step: Step | None = None
    """The step this task stands for (``for_step``); None for the whole task."""
    session: list[dict] | None = None
    """The conversation this instruction continues (a step with ``inherit_prior_session``);
    None starts a fresh one."""

    @property
    def short_name(self) -> str:
        """The name without its ``org/`` part: safe in paths and image tags."""
        return self.name.rsplit("/", 1)[-1]

    def for_step(self, name: str, session: list[dict] | None = None) -> "Task":
        """One step as a task: its instruction, tests, solution, timeouts and verifier."""
        step = next(s for s in self.steps if s.name == name)
        cfg = step.config
        config = self.config.model_copy(deep=True)
        if cfg.agent.timeout_sec is not None:
            config.agent.timeout_sec = cfg.agent.timeout_sec
        if cfg.verifier.timeout_sec is not None:
            config.verifier.timeout_sec = cfg.verifier.timeout_sec
        config.verifier.env = {**config.verifier.env, **cfg.verifier.env}
        verifier_env = harbor_format.verifier_environment(self.path, self.config, cfg,
                                                          force=self.verifier_env is not None)
        if verifier_env and self.verifier_env:  # --isolated-verifier's workspace (isolated())
            verifier_env.artifacts += [a for a in self.verifier_env.artifacts if a not in verifier_env.artifacts]
        return dataclasses.replace(
            self, instruction=step.instruction, config=config, steps=[], step=step, session=session,
            verifier_uploads=[] if verifier_env and verifier_env.tests_in_image else
            [(d, "/tests") for d in step.tests_dirs],
            oracle_uploads=[(step.solve.parent, "/solution")] if step.solve else [],
            oracle_command="bash /solution/solve.sh" if step.solve else None, oracle_script=step.solve,
            verifier_env=verifier_env)

    def isolated(self) -> "Task":
        """This task with its verifier in a fresh sandbox over the workspace (``--isolated-verifier``)."""
        if self.verifier_env is not None:
            return self
        env = harbor_format.verifier_environment(self.path, self.config, force=True) if self.layout == "harbor" \
            else VerifierEnvironment(self.config.environment, dockerfile=self.dockerfile,
                                     artifacts=[harbor_format.ARTIFACTS_DIR], source="Dockerfile (a fresh sandbox)")
        if env.artifacts == [harbor_format.ARTIFACTS_DIR]:  # nothing declared: the working directory
            workdir = self.config.environment.workdir or _image_workdir(self.dockerfile)
            if workdir in (None, "/"):
                raise TaskError("--isolated-verifier needs to know the agent's workspace",
                                where=f"{self.path}/{'task.toml' if self.layout == 'harbor' else 'Dockerfile'}",
                                fix='declare it: artifacts = ["/app"] (or set WORKDIR in the Dockerfile)')
            env.artifacts.append(workdir.rstrip("/"))
        uploads = [] if env.tests_in_image else self.verifier_uploads
        return dataclasses.replace(self, verifier_env=env, verifier_uploads=uploads)

    @property
    def metadata(self) -> dict:
        """task.toml's [metadata]; ``domain`` falls back to ``category`` (Harbor and TB1 use that)."""
        meta = dict(self.config.metadata)
        if "domain" not in meta and "category" in meta:
            meta["domain"] = meta["category"]
        return meta

    @property
    def has_oracle(self) -> bool:
        if self.steps:
            return all(s.solve is not None for s in self.steps)
        return self.oracle_command is not None


def _image_workdir(dockerfile: Path | None) -> str | None:
    """The last WORKDIR of a Dockerfile (absolute ones only), or None."""
    found = None
    for line in (dockerfile.read_text(errors="replace").splitlines() if dockerfile else []):
        match = re.match(r"\s*WORKDIR\s+(/\S*)", line, re.IGNORECASE)
        if match:
            found = match.group(1)
    return found


def is_task_dir(path: Path) -> bool:
    """A Harbor (task.toml) or Terminal-Bench 1 (task.yaml) task dir."""
    return (path / "task.toml").is_file() or (path / "task.yaml").is_file()


def _rel(task_dir: Path, p: Path) -> str:
    return str(p.relative_to(task_dir)) if p.is_relative_to(task_dir) else str(p)


def _read_toml(path: Path, problems: list[Problem]) -> TaskConfig | None:
    try:
        raw = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.append(Problem("error", "task.toml", f"not valid TOML: {exc}", "fix the syntax at the reported line"))
        return None
    if "version" not in raw and "schema_version" not in raw:
        problems.append(Problem("warning", "task.toml", "no `version` or `schema_version` key",
                                'add `version = "1.0"` at the top'))
    return _validate_config(raw, "task.toml", problems)


def _validate_config(raw: dict, file: str, problems: list[Problem]) -> TaskConfig | None:
    try:
        config = TaskConfig.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            problems.append(Problem("error", file, f"field `{where}`: {err['msg']}",
                                    f"give `{where}` a valid value (see docs of tmax.tasks.config)"))
        return None
    for key in config.unknown_keys():
        problems.append(Problem("warning", file, f"unknown key `{key}` (kept, not used by tmax)"))
    return config


def _dockerfile_problems(dockerfile: Path, file: str, problems: list[Problem]) -> None:
    lines = [ln.strip() for ln in dockerfile.read_text(errors="replace").splitlines()]
    if not any(ln.upper().startswith("FROM ") for ln in lines):
        problems.append(Problem("error", file, "no FROM instruction", "start the Dockerfile with `FROM <image>`"))


def _instruction(path: Path, rel: str, problems: list[Problem]) -> str:
    if not path.is_file():
        problems.append(Problem("error", rel, "missing", "write the task prompt to instruction.md"))
        return ""
    text = strip_canary(path.read_text(errors="replace"))
    if not text.strip():
        problems.append(Problem("error", rel, "empty", "write the task prompt to instruction.md"))
    return text


def _load_harbor(task_dir: Path, problems: list[Problem]) -> Task | None:
    config = _read_toml(task_dir / "task.toml", problems)
    multi = bool(config and config.steps)
    instruction = "" if multi else _instruction(task_dir / "instruction.md", "instruction.md", problems)
    env_dir = task_dir / "environment"
    dockerfile = env_dir / "Dockerfile"
    compose = next((p for p in (env_dir / "docker-compose.yaml", env_dir / "docker-compose.yml") if p.is_file()), None)
    prebuilt = config.environment.docker_image if config else None
    if dockerfile.is_file():
        _dockerfile_problems(dockerfile, "environment/Dockerfile", problems)
    elif not prebuilt:
        problems.append(Problem("error", "environment/Dockerfile", "missing (and no environment.docker_image)",
                                "add environment/Dockerfile or set `docker_image` under [environment] in task.toml"))
    if compose:
        problems.append(Problem("warning", _rel(task_dir, compose),
                                "multi-container compose environments are not supported yet; only the Dockerfile is used"))
    if config is None:
        return None
    tests = task_dir / "tests"
    solve = task_dir / "solution" / "solve.sh"
    verifier_env = harbor_format.verifier_environment(task_dir, config)
    steps: list[Step] = []
    if multi:
        steps, found = harbor_format.load_steps(task_dir, config)
        problems.extend(Problem(*p) for p in found)
    else:
        if not (tests / "test.sh").is_file() and not (verifier_env and verifier_env.tests_in_image):
            problems.append(Problem("error", "tests/test.sh", "missing",
                                    "add tests/test.sh; it must write /logs/verifier/reward.txt or reward.json"))
        if not solve.is_file():
            problems.append(Problem("warning", "solution/solve.sh", "missing: the oracle agent cannot run this task"))
    for message in harbor_format.artifact_problems(config):
        problems.append(Problem("error", "task.toml", message, "collect the output somewhere else, e.g. /app/out"))
    if verifier_env and verifier_env.dockerfile:
        _dockerfile_problems(verifier_env.dockerfile, _rel(task_dir, verifier_env.dockerfile), problems)
    has_solve = solve.is_file() and not multi
    return Task(
        path=task_dir, name=config.task.name if config.task else task_dir.name, layout="harbor",
        instruction=instruction, config=config,
        build_context=env_dir, dockerfile=dockerfile if dockerfile.is_file() else None, compose_file=compose,
        verifier_uploads=[] if verifier_env and verifier_env.tests_in_image else [(tests, "/tests")],
        verifier_command="bash /tests/test.sh",
        oracle_uploads=[(task_dir / "solution", "/solution")] if has_solve else [],
        oracle_command="bash /solution/solve.sh" if has_solve else None,
        oracle_script=solve if has_solve else None, steps=steps, verifier_env=verifier_env,
    )


def _tb1_config(raw: dict) -> dict:
    """Map Terminal-Bench 1 ``task.yaml`` keys onto the Harbor schema."""
    meta = {k: raw[k] for k in ("author_name", "author_email", "difficulty", "category", "tags") if k in raw}
    return {
        "version": "tb1",
        "metadata": meta,
        "agent": {"timeout_sec": float(raw.get("max_agent_timeout_sec", 600.0))},
        "verifier": {"timeout_sec": float(raw.get("max_test_timeout_sec", 600.0))},
        "environment": {"allow_internet": bool(raw.get("allow_internet", False))},
    }


def _load_tb1(task_dir: Path, problems: list[Problem]) -> Task | None:
    try:
        raw = yaml.safe_load((task_dir / "task.yaml").read_text()) or {}
    except yaml.YAMLError as exc:
        problems.append(Problem("error", "task.yaml", f"not valid YAML: {exc}", "fix the syntax at the reported line"))
        return None
    if not isinstance(raw, dict):
        problems.append(Problem("error", "task.yaml", "top level is not a mapping", "write `key: value` pairs"))
        return None
    instruction = raw.get("instruction")
    if instruction is None and isinstance(raw.get("descriptions"), list) and raw["descriptions"]:
        instruction = raw["descriptions"][0].get("description")
    if not instruction or not str(instruction).strip():
        problems.append(Problem("error", "task.yaml", "field `instruction`: missing or empty",
                                "add `instruction: |` with the task prompt"))
    dockerfile = task_dir / "Dockerfile"
    compose = next((p for p in (task_dir / "docker-compose.yaml", task_dir / "docker-compose.yml") if p.is_file()), None)
    if dockerfile.is_file():
        _dockerfile_problems(dockerfile, "Dockerfile", problems)
    else:
        problems.append(Problem("error", "Dockerfile", "missing", "add a Dockerfile next to task.yaml"))
    run_tests = task_dir / "run-tests.sh"
    if not run_tests.is_file():
        problems.append(Problem("error", "run-tests.sh", "missing", "add run-tests.sh that runs the tests in tests/"))
    solve = task_dir / "solution.sh"
    if not solve.is_file():
        problems.append(Problem("warning", "solution.sh", "missing: the oracle agent cannot run this task"))
    config = _validate_config(_tb1_config(raw), "task.yaml", problems)
    if config is None or not instruction:
        return None
    uploads = [(task_dir / "tests", "/tests")] if (task_dir / "tests").is_dir() else []
    return Task(
        path=task_dir, name=task_dir.name, layout="tb1", instruction=str(instruction), config=config,
        build_context=task_dir, dockerfile=dockerfile if dockerfile.is_file() else None, compose_file=compose,
        verifier_uploads=uploads + [(run_tests, "/tests/run-tests.sh")], verifier_command="bash /tests/run-tests.sh",
        oracle_uploads=[(solve, "/solution/solution.sh")] if solve.is_file() else [],
        oracle_command="bash /solution/solution.sh" if solve.is_file() else None,
        oracle_script=solve if solve.is_file() else None, parser_name=str(raw.get("parser_name") or "pytest"),
    )


def check_task(path: str | Path) -> tuple[Task | None, list[Problem]]:
    """Load a task dir and list every problem found (errors and warnings)."""
    task_dir = Path(path).resolve()
    problems: list[Problem] = []
    if not task_dir.is_dir():
        problems.append(Problem("error", ".", "does not exist" if not task_dir.exists() else "not a directory",
                                "pass the path of a task directory"))
        return None, problems
    if (task_dir / "task.toml").is_file():
        task = _load_harbor(task_dir, problems)
    elif (task_dir / "task.yaml").is_file():
        task = _load_tb1(task_dir, problems)
    else:
        problems.append(Problem("error", "task.toml", "missing (and no Terminal-Bench 1 task.yaml)",
                                "a Harbor task needs task.toml, instruction.md, environment/Dockerfile, tests/test.sh"))
        return None, problems
    if any(p.level == "error" for p in problems):
        return None, problems
    return task, problems


def load_task(path: str | Path) -> Task:
    """Load a task dir or raise ``TaskError`` naming the file, the field and the fix."""
    task, problems = check_task(path)
    if task is None:
        first = next(p for p in problems if p.level == "error")
        more = sum(p.level == "error" for p in problems) - 1
        suffix = f" (and {more} more error(s); run `tmax tasks validate {path}`)" if more else ""
        where = str(Path(path)) if first.file == "." else f"{Path(path)}/{first.file}".replace("//", "/")
        raise TaskError(first.message + suffix, where=where, fix=first.fix)
    return task
