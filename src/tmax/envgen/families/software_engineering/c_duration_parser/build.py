"""c_duration_parser: implement ``parse_duration`` in a small C project to a written spec.

``app/`` is the project as the agent gets it (``duration.c`` a stub); ``duration_solution.c`` is
the reference implementation ``solve.sh`` writes, and ``_duration`` here the reference in Python
that labels the fuzz corpus."""

from __future__ import annotations

import random
import re

from tmax.envgen.bundle import TaskParts
from tmax.envgen.families import family
from tmax.envgen.families.files import FamilyFiles

FILES = FamilyFiles(__file__)

_MULT = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_LIMIT = 2147483647


def _duration(text: str, level: int) -> str:
    """The reference: what the C program must print for one input line."""
    units = "wdhms" if level >= 2 else "dhms"
    s = text.strip(" \t") if level >= 4 else text
    neg = level >= 3 and s[:1] in ("+", "-") and s[0] == "-"
    s = s[1:] if level >= 3 and s[:1] in ("+", "-") else s
    if level >= 4 and s.startswith("P"):
        n = "([0-9]{1,12})"
        m = re.fullmatch(rf"P(?:{n}W|(?:{n}D)?(?:T(?:{n}H)?(?:{n}M)?(?:{n}S)?)?)", s)
        if not m or s == "P" or s.endswith("T"):
            return "ERROR"
        vals = [int(g or 0) for g in m.groups()]
        total = sum(v * k for v, k in zip(vals, (604800, 86400, 3600, 60, 1)))
    else:
        comps = re.findall(r"([0-9]{1,12})([%s])" % units, s)
        order = [units.index(u) for _, u in comps]
        if (not re.fullmatch(r"(?:[0-9]{1,12}[%s])+" % units, s) or order != sorted(set(order))
                or (level == 1 and len(comps) > 1)):
            return "ERROR"
        total = sum(int(n) * _MULT[u] for n, u in comps)
    if level >= 3 and total > _LIMIT:
        return "OVERFLOW"
    return str(-total if neg else total)


def _duration_inputs(rng: random.Random, level: int) -> list[str]:
    units = "wdhms" if level >= 2 else "dhms"

    def num() -> str:
        r = rng.random()
        return (str(rng.randint(0, 99)) if r < 0.45 else str(rng.randint(0, 9999)) if r < 0.75 else
                "0" + str(rng.randint(1, 9)) if r < 0.87 else str(rng.randint(10 ** 8, 10 ** 12 - 1)))

    def compact() -> str:
        picked = sorted(rng.sample(range(len(units)), rng.randint(1, len(units) if level >= 2 else 1)))
        return "".join(num() + units[i] for i in picked)

    def iso() -> str:
        if rng.random() < 0.2:
            return f"P{num()}W"
        t = "".join(num() + u for u in "HMS" if rng.random() < 0.5)
        return "P" + (num() + "D" if rng.random() < 0.6 else "") + ("T" + t if t or rng.random() < 0.2 else "")
    mutations = [lambda x: x.upper(), lambda x: x + x[-1], lambda x: x[::-1], lambda x: " " + x + "\t",
                 lambda x: x.replace(x[-1], " " + x[-1], 1), lambda x: "-" + x, lambda x: "+" + x,
                 lambda x: x[:-1], lambda x: x + "x", lambda x: "1.5" + x[-1], lambda x: "9" * 13 + x[-1],
                 lambda x: x[-1] + x[:-1], lambda x: "", lambda x: "- " + x, lambda x: x.lower()]
    base = [compact() for _ in range(120)] + ([iso() for _ in range(60)] if level >= 4 else [])
    base += ["1d1d", "5m3h", "2h30", "h", "7", "2147483647s", "2147483648s", "-2147483648s", "24855d3h14m7s",
             "35791394m8s", "P1W2D", "PT", "P", "P1DT", "pt5m", "PT36H", "P0D", "  -PT1M "]
    out = base + [rng.choice(mutations)(rng.choice(base) or "1s") for _ in range(150)]
    return list(dict.fromkeys(x for x in out if "\n" not in x and len(x) < 200))


def _duration_spec(level: int) -> str:
    units = ("`w` (604800 s), " if level >= 2 else "") + "`d` (86400 s), `h` (3600 s), `m` (60 s), `s` (1 s)"
    rules = [f"A component is NUMBER immediately followed by UNIT: NUMBER is 1 to 12 ASCII digits (leading zeros "
             f"allowed) and UNIT one of {units}, lower case. Nothing else (no spaces) may appear between or inside "
             "components."]
    rules.append("The input is exactly one component; its value is NUMBER times the unit's seconds." if level == 1 else
                 "The input is one or more components, their units in strictly decreasing size (w, d, h, m, s), each "
                 "unit at most once (`1d2h` is fine, `2h1d` and `1h1h` are errors); the value is the sum.")
    if level >= 3:
        rules.append("One optional leading `+` or `-` applies to the whole duration (`-` makes the value negative). "
                     "When the total before the sign exceeds 2147483647, the result is DUR_OVERFLOW.")
    if level >= 4:
        rules.append("Leading and trailing spaces and tabs are ignored. After the optional sign, the ISO 8601 form "
                     "is accepted as well: `P` then either `nW` alone, or an optional `nD` optionally followed by "
                     "`T` and one or more of `nH`, `nM`, `nS` in that order (each at most once), with n being 1 "
                     "to 12 digits. There must be at least one component, a `T` must be followed by at least one, "
                     "and these letters are upper case only (`P1DT2H30M` = 95400, `PT36H`, `P2W`).")
    rules.append("Anything else is DUR_ERROR. (main.c prints DUR_ERROR as ERROR and DUR_OVERFLOW as OVERFLOW.)")
    return "".join(f"- {r}\n" for r in rules)


@family(name="c_duration_parser", domain="software_engineering", skill_type="implement_to_spec",
        verifier="fuzz_equivalence", fixture="text_only", language="c",
        skills=("c_string_parsing", "build_with_make", "integer_overflow_checks", "edge_case_testing"),
        command_complexity="bash_code")
def build(rng: random.Random, difficulty: int) -> TaskParts:
    """Implement `parse_duration` in a small C project (Makefile, main.c and header given) so
    the built program prints each input line's duration in seconds. Knobs (cumulative): 1 one
    component, 2 several components in order plus weeks, 3 a sign and overflow detection, 4
    surrounding whitespace and the ISO 8601 form. The fuzz corpus grows with the rules."""
    inputs = _duration_inputs(rng, difficulty)
    rng.shuffle(inputs)
    expected = {x: _duration(x, difficulty) for x in inputs}
    groups: dict[str, list] = {"valid durations": [], "errors": []}
    for x, want in expected.items():
        name = ("overflows" if want == "OVERFLOW" else "errors" if want == "ERROR"
                else "ISO 8601 durations" if "P" in x else "valid durations")
        groups.setdefault(name, []).append(x)
    instruction = (
        "/app holds a small C program: main.c reads one duration per line from stdin and prints its value in seconds "
        "(or ERROR / OVERFLOW) using `parse_duration` from duration.h, and the Makefile builds /app/durparse. "
        "duration.c is only a stub. Implement `parse_duration` in /app/duration.c so that `make -C /app durparse` "
        "builds and the program follows the rules below; keep main.c, duration.h and the Makefile unchanged.\n\n"
        f"{_duration_spec(difficulty)}"
    )
    units = "wdhms" if difficulty >= 2 else "dhms"
    c_src = FILES.fill("duration_solution.c", level=difficulty, units=units,
                       mult=", ".join(str(_MULT[u]) for u in units))
    files = {f"environment/app/{name}": FILES.read(f"app/{name}")
             for name in ("main.c", "duration.h", "duration.c", "Makefile")}
    return TaskParts(instruction, FILES.fill("test_task.py", expected=expected, groups=groups),
                     FILES.fill("solve.sh", duration_c=c_src), files,
                     knobs={"rules": difficulty, "weeks": difficulty >= 2, "sign_overflow": difficulty >= 3,
                            "iso8601": difficulty >= 4, "inputs": len(inputs)})
