"""Shared check for procedural families: build a task, run the oracle and the noop agent on it
in a real sandbox, and require reward 1 and 0."""

from __future__ import annotations

import random
from pathlib import Path

from tmax.envgen.bundle import write_task
from tmax.envgen.families import load_all
from tmax.trial import run_trial
from tmax.tasks import load_task


def build(name: str, difficulty: int, seed: int, out: Path) -> Path:
    fam = load_all()[name]
    parts = fam.build(random.Random(f"{name}:{seed}:{difficulty}"), difficulty)
    meta = {"domain": fam.domain, "family": fam.name, "difficulty": difficulty, "verifier_kind": fam.verifier,
            "fixture_kind": fam.fixture, "language": fam.language}
    return write_task(parts, out / f"{name}-d{difficulty}-s{seed}", meta)


def oracle_and_noop(name: str, difficulty: int, seed: int, tmp: Path, backend: str = "podman") -> tuple:
    """(oracle reward, noop reward, the two trial errors) for one generated task."""
    task = load_task(build(name, difficulty, seed, tmp / "tasks"))
    oracle = run_trial(task, tmp / "jobs", agent="oracle", backend=backend)
    noop = run_trial(task, tmp / "jobs", agent="noop", backend=backend)
    return oracle.reward, noop.reward, oracle.error, noop.error
