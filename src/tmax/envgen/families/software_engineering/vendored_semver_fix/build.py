"""vendored_semver_fix: fix the planted bugs of a vendored Python package and extend it.

``semverlite/`` is the package as it should be (``core.py`` also labels the graded cases here);
the task ships it to /app/vendor/semverlite with bugs planted, and ``solve.sh`` restores it.
``spec.md`` is the behaviour the instruction specifies."""

from __future__ import annotations

import random
import re

from tmax.envgen.bundle import TaskParts
from tmax.envgen.families import family
from tmax.envgen.families.files import FamilyFiles
from tmax.envgen.families.software_engineering import run_source

FILES = FamilyFiles(__file__)
_CORE = FILES.read("semverlite/core.py")
_FEATURES = {name: "\n\n" + FILES.read(f"feature_{name}.py") for name in ("max_satisfying", "bump")}

# (name, correct text, buggy text): each bug is one local edit of semverlite/core.py
_SEMVER_BUGS = [
    ("numeric core", "return -1 if va[:3] < vb[:3] else 1",
     'return -1 if ".".join(map(str, va[:3])) < ".".join(map(str, vb[:3])) else 1'),
    ("release above prerelease", "    if not a:\n        return 1\n    if not b:\n        return -1",
     "    if not a:\n        return -1\n    if not b:\n        return 1"),
    ("numeric prerelease ids", "return -1 if int(x) < int(y) else 1", "return -1 if x < y else 1"),
    ("caret on 0.x", 'upper = f"0.{minor + 1}.0"', 'upper = "1.0.0"'),
    ("tilde upper bound", '("<", f"{major}.{minor + 1}.0")', '("<", f"{major + 1}.0.0")'),
    ("less-or-equal", '"<=": lambda c: c <= 0', '"<=": lambda c: c < 0'),
]


def _semver_inputs(rng: random.Random) -> tuple[list, list, list, list]:
    pre = ["alpha", "alpha.1", "alpha.beta", "beta", "beta.2", "beta.11", "rc.1", "rc.10", "1", "2", "10"]

    def ver() -> str:
        v = ".".join(str(rng.choice(nums)) for nums in ([0, 0, 0, 1, 2, 10], [0, 1, 2, 3, 9, 10, 11], [0, 1, 2, 9, 10]))
        v += f"-{rng.choice(pre)}" if rng.random() < 0.35 else ""
        return v + (f"+build.{rng.randint(1, 99)}" if rng.random() < 0.1 else "")

    def near(v: str) -> str:  # the same MAJOR.MINOR.PATCH, or one field changed
        core = [int(x) for x in re.split(r"[-+]", v)[0].split(".")]
        if rng.random() < 0.5:
            i = rng.randrange(3)
            core[i] = max(0, core[i] + rng.choice([-1, 1, 8]))
        return ".".join(map(str, core)) + (f"-{rng.choice(pre)}" if rng.random() < 0.5 else "")

    def spec(v: str) -> str:
        ops = ["^", "^", "~", "~", ">=", ">", "<=", "<", "=", ""]
        return " ".join(rng.choice(ops) + (near(v) if rng.random() < 0.6 else ver().split("+")[0])
                        for _ in range(rng.choice([1, 1, 2])))
    vs = [ver() for _ in range(800)]
    pairs = [(v, near(v) if rng.random() < 0.5 else ver()) for v in vs[:400]] + [(v, v) for v in vs[400:420]]
    sats = [(v, spec(v)) for v in vs]
    for _ in range(8):  # probes for the edge cases the spec spells out
        a, b, c, n = (rng.randint(0, 12) for _ in range(4))
        x = f"{a}.{b}.{c}"
        pairs += [(f"{x}-{t}.{n % 9 + 1}", f"{x}-{t}.{n + 10}") for t in ("beta", "rc")]
        pairs += [(x, f"{x}-rc.{n}"), (f"{a}.{b + 10}.{c}", f"{a}.{b + 9}.{c}"), (f"{a + 10}.0.0", f"{a + 9}.{b}.0")]
        sats += [(f"0.{b + 2}.{c}", f"^0.{b + 1}.{c}"), (f"{a + 1}.{b + 1}.{c}", f"~{a + 1}.{b}.{c}"),
                 (x, f"<={x}"), (x, f"<={a}.{b}.{c + 1} >{a}.0.0-0"), (f"0.0.{c + 1}", f"^0.0.{c}")]
    rng.shuffle(pairs)
    rng.shuffle(sats)
    maxes = [([ver() for _ in range(rng.randint(0, 8))], spec(ver())) for _ in range(60)]
    bumps = [(ver(), rng.choice(["major", "minor", "patch"])) for _ in range(60)]
    return pairs, sats, maxes, bumps


def _semver_cases(rng: random.Random, bugs: list, features: list) -> dict[str, list]:
    """Graded cases (function, args, expected, shipped package gets it wrong) per component: one
    component per planted bug holds inputs that bug alone gets wrong."""
    good = run_source(_CORE + "".join(_FEATURES.values()))
    shipped = _CORE
    for _, right, wrong in bugs:
        shipped = shipped.replace(right, wrong)
    shipped_ns = run_source(shipped)
    pairs, sats, maxes, bumps = _semver_inputs(rng)
    calls = [("compare", p) for p in pairs] + [("satisfies", s) for s in sats]
    case = {c: (c[0], c[1], good[c[0]](*c[1]), shipped_ns[c[0]](*c[1]) != good[c[0]](*c[1])) for c in calls}
    cases: dict[str, list] = {}
    for name, right, wrong in bugs:
        alone = run_source(_CORE.replace(right, wrong))
        cases[f"fixed: {name}"] = [case[c] for c in calls if alone[c[0]](*c[1]) != case[c][2]][:25]
        assert cases[f"fixed: {name}"], name
    cases["compare agrees"] = [case[c] for c in calls if c[0] == "compare"][:150]
    cases["satisfies agrees"] = [case[c] for c in calls if c[0] == "satisfies"][:200]
    for f, inputs in (("max_satisfying", maxes), ("bump", bumps)):
        if f in features:
            cases[f] = [(f, a, good[f](*a), True) for a in inputs]
    return cases


_SEMVER_FEATURES = {
    "max_satisfying": "`max_satisfying(versions, spec)`: of the version strings in the list `versions`, return the one "
                      "with the highest precedence that satisfies spec (the earliest in the list among equals), or "
                      "None when none does.",
    "bump": "`bump(version, part)` with part `major`, `minor` or `patch`: return the next version as "
            "`MAJOR.MINOR.PATCH` with no prerelease or build: major -> (MAJOR+1).0.0, minor -> MAJOR.(MINOR+1).0, "
            "patch -> MAJOR.MINOR.PATCH when the version has a prerelease, else MAJOR.MINOR.(PATCH+1).",
}


@family(name="vendored_semver_fix", domain="software_engineering", skill_type="debug_and_extend_library",
        verifier="fuzz_equivalence", fixture="vendored_package", language="python",
        skills=("read_library_source", "fix_logic_bugs", "implement_spec", "python_packaging_imports"),
        command_complexity="bash_code")
def build(rng: random.Random, difficulty: int) -> TaskParts:
    """The vendored package /app/vendor/semverlite has planted bugs against a written spec; fix
    them (and add functions). Knobs: number of bugs (1-4, drawn from six), 3+ adds
    `max_satisfying`, 4 adds `bump` too. Graded per bug on the inputs it breaks, plus fuzzed
    agreement with the spec on random inputs."""
    bugs = rng.sample(_SEMVER_BUGS, difficulty)
    features = ["max_satisfying", "bump"][:max(0, difficulty - 2)]
    cases = _semver_cases(rng, bugs, features)
    core = _CORE
    for _, right, wrong in bugs:
        core = core.replace(right, wrong)
    adds = "".join(f"\n- {_SEMVER_FEATURES[f]}" for f in features)
    instruction = (
        "Our tools import the vendored package /app/vendor/semverlite (with /app/vendor on sys.path: "
        f"`import semverlite`). It has {len(bugs)} bug{'s' if len(bugs) > 1 else ''}: fix the package in place so "
        f"`semverlite.compare` and `semverlite.satisfies` behave exactly as specified below.\n\n{FILES.read('spec.md')}"
        + (f"\nAlso add these functions, importable as `semverlite.<name>`:{adds}\n" if features else "")
    )
    solution = FILES.fill("solve.sh", core=_CORE + "".join(_FEATURES[f] for f in features),
                          imports="".join(f"from .core import {f}\n" for f in features))
    files = {"environment/app/vendor/semverlite/__init__.py": FILES.read("semverlite/__init__.py"),
             "environment/app/vendor/semverlite/core.py": core}
    return TaskParts(instruction, FILES.fill("test_task.py", cases=cases), solution, files,
                     knobs={"bugs": len(bugs), "bug_names": [b[0] for b in bugs], "features": features,
                            "cases": sum(map(len, cases.values()))})
