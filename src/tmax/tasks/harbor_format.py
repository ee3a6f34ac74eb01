"""Harbor's current task format: steps, canary lines, the separate verifier, artifacts, networks.

The meanings follow the ``harbor`` package (0.25/0.26: ``harbor.models.task``,
``harbor.trial.multi_step``, ``harbor.trial.network_policy``); what tmax does differently is
said where it does it.

- **Steps** (``[[steps]]``, ``steps/<name>/{instruction.md, solution/, tests/}``): run in the
  listed order in one environment. A step's verifier gets ``tests/`` and then
  ``steps/<name>/tests/`` uploaded to ``/tests`` and runs the step's ``test.sh`` (else the
  shared one); the oracle runs ``steps/<name>/solution/solve.sh`` (else ``solution/solve.sh``).
  ``steps/<name>/workdir/`` is copied into the working directory before the step, and its
  ``setup.sh`` runs there.
  ``dependencies`` and ``inherit_prior_session`` are not in Harbor's models (public task
  collections write them): steps run in the listed order, so a dependency that is not an
  earlier step is a warning; ``inherit_prior_session = true`` sends the step's instruction
  to the previous step's agent conversation, otherwise a fresh one starts (Harbor's default).
- **Canary lines**: leading lines that are an HTML or ``#`` comment containing "canary", and
  the blank lines after them, are removed from every instruction (Harbor's ``strip_canary``).
- **Separate verifier** (``[verifier] environment_mode = "separate"`` or a
  ``[verifier.environment]``; per step too; a ``tests/Dockerfile`` alone does not ask for it,
  as in Harbor): the verifier runs in a fresh sandbox built from
  ``[verifier.environment].docker_image``, else ``tests/Dockerfile`` (the image then holds
  ``/tests`` itself), else the agent's own environment. It sees the agent's **workspace**,
  which Harbor defines as the artifacts: ``/logs/artifacts`` plus every path in
  ``artifacts`` (task and step). Paths are copied at the same place, without special files,
  set-id bits or links that leave them.
- **Networks**: Harbor's default is public; tmax's is offline. A phase gets a network only
  when the task asks for ``public`` explicitly (``network_mode`` on the phase or its
  environment, or the legacy ``allow_internet = true``); the decision and where it came from
  go into result.json. ``allowlist`` runs offline: no tmax backend can limit a network to
  hosts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tmax.tasks.config import EnvironmentConfig, StepConfig, TaskConfig

_CANARY_LINE = re.compile(r"^(<!--.*canary.*-->|#.*canary.*)$", re.IGNORECASE)
ARTIFACTS_DIR = "/logs/artifacts"
PROTECTED = ("/logs/verifier", "/logs/agent")


def strip_canary(text: str) -> str:
    """``text`` without its leading canary comment lines and the blank lines after them."""
    lines = text.split("\n")
    i = 0
    while i < len(lines) and _CANARY_LINE.match(lines[i].strip()):
        i += 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    return "\n".join(lines[i:])


@dataclass
class Step:
    name: str
    config: StepConfig
    instruction: str
    tests_dirs: list[Path]
    """``tests/`` and ``steps/<name>/tests/`` (those that exist), uploaded to /tests in order."""
    solve: Path | None
    """The step's solve.sh, or the task's when the step has none."""
    workdir: Path | None = None
    """``steps/<name>/workdir/``: copied into the sandbox's working directory before the step's
    agent starts; its ``setup.sh``, if any, runs there first (Harbor's step setup)."""


@dataclass
class VerifierEnvironment:
    """Where a separate verifier runs and what it sees of the agent's sandbox."""

    config: EnvironmentConfig
    dockerfile: Path | None = None
    docker_image: str | None = None
    tests_in_image: bool = False
    """Built from ``tests/Dockerfile``: the image holds ``/tests``; nothing is uploaded there."""
    artifacts: list[str] = field(default_factory=list)
    source: str = ""
    """Which file or field defined it, for result.json."""


def verifier_mode(config: TaskConfig, step: StepConfig | None = None) -> str:
    """``shared`` or ``separate``: the step's explicit mode, else a step environment means
    separate, else the task's (explicit mode, or separate when [verifier.environment] is set)."""
    for level in ([step.verifier] if step else []) + [config.verifier]:
        if level.environment_mode is not None:
            return level.environment_mode
        if level.environment is not None:
            return "separate"
    return "shared"


def artifact_paths(config: TaskConfig, step: StepConfig | None = None) -> list[str]:
    """The workspace a separate verifier gets: /logs/artifacts and the declared artifacts."""
    paths = [ARTIFACTS_DIR]
    for entry in [*config.artifacts, *(step.artifacts if step else [])]:
        source = entry if isinstance(entry, str) else str(entry.get("source", ""))
        if source and source.rstrip("/") not in paths:
            paths.append(source.rstrip("/") or "/")
    return paths


def artifact_problems(config: TaskConfig) -> list[str]:
    """Artifact entries tmax cannot copy safely: relative, ``..``, or over the verifier's logs."""
    out = []
    for step in [None, *(config.steps or [])]:
        for path in artifact_paths(config, step)[1:]:
            parts = Path(path).parts
            if not path.startswith("/") or ".." in parts or path == "/":
                out.append(f"artifact {path!r} must be an absolute path below / without `..`")
            elif any(path == p or path.startswith(p + "/") or p.startswith(path + "/") for p in PROTECTED):
                out.append(f"artifact {path!r} overlaps the verifier's or agent's logs ({', '.join(PROTECTED)})")
    return sorted(set(out))


def verifier_environment(task_dir: Path, config: TaskConfig, step: StepConfig | None = None, *,
                         force: bool = False) -> VerifierEnvironment | None:
    """The separate verifier's environment, or None when the verifier shares the agent's
    sandbox. ``force`` (tmax's ``--isolated-verifier``) makes every verifier separate."""
    if verifier_mode(config, step) != "separate" and not force:
        return None
    declared = (step.verifier.environment if step and step.verifier.environment else None) \
        or config.verifier.environment
    env_config = declared or config.environment.model_copy(deep=True)
    artifacts = artifact_paths(config, step)
    candidates = ([(step.verifier.environment, task_dir / "steps" / step.name / "tests")] if step else []) \
        + [(config.verifier.environment, task_dir / "tests")]
    for env, tests_dir in candidates:
        rel = tests_dir.relative_to(task_dir)
        if env is not None and env.docker_image:
            return VerifierEnvironment(env_config, docker_image=env.docker_image, tests_in_image=True,
                                       artifacts=artifacts, source=f"{rel}: docker_image {env.docker_image}")
        if (tests_dir / "Dockerfile").is_file():
            return VerifierEnvironment(env_config, dockerfile=tests_dir / "Dockerfile", tests_in_image=True,
                                       artifacts=artifacts, source=f"{rel}/Dockerfile")
    dockerfile = task_dir / "environment" / "Dockerfile"
    return VerifierEnvironment(env_config, dockerfile=dockerfile if dockerfile.is_file() else None,
                               docker_image=config.environment.docker_image, artifacts=artifacts,
                               source="environment/ (a fresh sandbox of the agent's image)")


def load_steps(task_dir: Path, config: TaskConfig) -> tuple[list[Step], list[tuple[str, str, str, str]]]:
    """The steps of a multi-step task and the problems found, as (level, file, message, fix)."""
    steps, problems, seen = [], [], []
    shared_tests = task_dir / "tests"
    shared_solve = task_dir / "solution" / "solve.sh"
    for cfg in config.steps or []:
        rel = f"steps/{cfg.name}"
        step_dir = task_dir / "steps" / cfg.name
        if not step_dir.resolve().is_relative_to(task_dir.resolve()):
            problems.append(("error", rel, "leaves the task directory", "use a plain directory name"))
            continue
        path = step_dir / "instruction.md"
        instruction = strip_canary(path.read_text(errors="replace")) if path.is_file() else ""
        if not instruction.strip():
            problems.append(("error", f"{rel}/instruction.md", "missing" if not path.is_file() else "empty",
                             f"write the step's prompt to {rel}/instruction.md"))
        tests = [d for d in (shared_tests, step_dir / "tests") if d.is_dir()]
        separate = verifier_environment(task_dir, config, cfg)
        if not (separate and separate.tests_in_image) and not any((d / "test.sh").is_file() for d in tests):
            problems.append(("error", f"{rel}/tests/test.sh", "missing (and no shared tests/test.sh)",
                             "add a test.sh that writes /logs/verifier/reward.txt or reward.json"))
        solve = step_dir / "solution" / "solve.sh"
        solve = solve if solve.is_file() else (shared_solve if shared_solve.is_file() else None)
        if solve is None:
            problems.append(("warning", f"{rel}/solution/solve.sh", "missing: the oracle cannot run this step", ""))
        for dep in cfg.dependencies:
            if dep not in seen:
                problems.append(("warning", "task.toml", f"step {cfg.name!r} depends on {dep!r}, which is not an "
                                 "earlier step; steps run in the listed order", "list steps after their dependencies"))
        if cfg.min_reward is not None and not isinstance(cfg.min_reward, (int, float)) and not cfg.min_reward:
            problems.append(("warning", "task.toml", f"step {cfg.name!r}: empty min_reward table gates nothing", ""))
        seen.append(cfg.name)
        workdir = step_dir / "workdir"
        steps.append(Step(cfg.name, cfg, instruction, tests, solve, workdir if workdir.is_dir() else None))
    return steps, problems


# -- networks ----------------------------------------------------------------------------------
@dataclass
class PhaseNetwork:
    harbor: str
    """The mode Harbor would use: no-network, public or allowlist."""
    source: str
    """The field it came from, or "Harbor's default"."""
    network: bool
    """What tmax gives: a network only for an explicit ``public``."""

    def record(self) -> dict:
        return {"harbor_mode": self.harbor, "from": self.source, "network": self.network}


def _baseline(env: EnvironmentConfig, where: str) -> PhaseNetwork:
    if env.network_mode is not None:
        return PhaseNetwork(env.network_mode, f"{where}.network_mode", env.network_mode == "public")
    if "allow_internet" in env.model_fields_set:
        mode = "public" if env.allow_internet else "no-network"
        return PhaseNetwork(mode, f"{where}.allow_internet", env.allow_internet)
    return PhaseNetwork("public", "Harbor's default (tmax runs offline unless a task asks)", False)


def _phase(levels: list[tuple[object, str]], baseline: PhaseNetwork) -> PhaseNetwork:
    for cfg, where in levels:
        if cfg is not None and cfg.network_mode is not None:
            return PhaseNetwork(cfg.network_mode, f"{where}.network_mode", cfg.network_mode == "public")
    return baseline


def agent_network(config: TaskConfig, step: StepConfig | None = None) -> PhaseNetwork:
    levels = ([(step.agent, f"steps.{step.name}.agent")] if step else []) + [(config.agent, "agent")]
    return _phase(levels, _baseline(config.environment, "environment"))


def verifier_network(config: TaskConfig, step: StepConfig | None = None, *, separate: bool = False) -> PhaseNetwork:
    """The verifier's phase policy; a separate verifier's baseline is its own environment's."""
    levels = ([(step.verifier, f"steps.{step.name}.verifier")] if step else []) + [(config.verifier, "verifier")]
    env, where = config.environment, "environment"
    if separate:
        if step and step.verifier.environment is not None:
            env, where = step.verifier.environment, f"steps.{step.name}.verifier.environment"
        elif config.verifier.environment is not None:
            env, where = config.verifier.environment, "verifier.environment"
    return _phase(levels, _baseline(env, where))
