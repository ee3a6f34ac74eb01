"""Offline procedural task families: deterministic task builders, no network, no LLM.

A family builds one complete task (instruction, fixtures, graded verifier, oracle solution)
from a seeded ``random.Random`` and a difficulty level 1-4 (short, moderate, complex,
intricate). Its difficulty knobs change how many commands a solution needs.

Each family is a folder ``<domain>/<family>/``: ``build.py`` registers the builder in ``FAMILIES``
with ``@family(...)`` and samples the values; the programs it ships are real files beside it
(``solve.sh``, ``test_task.py``, fixtures under ``app/``, reference programs), filled in by
``files.FamilyFiles``. A domain's ``__init__.py`` holds what its families share.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tmax.envgen.bundle import TaskParts

DIFFICULTIES = {1: "short", 2: "moderate", 3: "complex", 4: "intricate"}
VERIFIER_KINDS = ("exact_text", "metric_threshold", "adversarial_corpus", "fuzz_equivalence", "multi_protocol")
FIXTURE_KINDS = ("text_only", "image", "audio", "video", "stripped_binary", "vendored_package",
                 "multi_service_compose")
LANGUAGES = ("python", "c", "bash", "cpp", "rust_go", "multi")


@dataclass(frozen=True)
class Family:
    name: str
    domain: str
    skill_type: str
    verifier: str            # one of VERIFIER_KINDS
    fixture: str             # one of FIXTURE_KINDS
    language: str            # one of LANGUAGES
    skills: tuple[str, ...]  # primitive skills a solution exercises (taxonomy names)
    build: Callable[[random.Random, int], TaskParts] = field(compare=False, repr=False)
    command_complexity: str = "bash_code"  # bash_only | bash_code | bash_code_services


FAMILIES: dict[str, Family] = {}


def family(**meta) -> Callable:
    """Decorator: register ``build(rng, difficulty) -> TaskParts`` as a family."""
    def register(build: Callable[[random.Random, int], TaskParts]) -> Callable:
        fam = Family(build=build, **meta)
        if fam.name in FAMILIES:
            raise ValueError(f"family {fam.name!r} is registered twice")
        for key, allowed in (("verifier", VERIFIER_KINDS), ("fixture", FIXTURE_KINDS), ("language", LANGUAGES)):
            if getattr(fam, key) not in allowed:
                raise ValueError(f"family {fam.name!r}: {key} must be one of {allowed}")
        FAMILIES[fam.name] = fam
        return build
    return register


def load_all() -> dict[str, Family]:
    """Import every family's builder, ``<domain>/<family>/build.py`` (each registers itself), and
    return the registry."""
    import importlib

    for build in sorted(Path(__file__).parent.glob("*/*/build.py")):
        importlib.import_module(f"{__name__}.{build.parent.parent.name}.{build.parent.name}.build")
    return FAMILIES
