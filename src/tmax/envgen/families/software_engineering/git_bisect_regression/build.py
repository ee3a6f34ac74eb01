"""git_bisect_regression: find (and revert) the commit that broke a pricing module in a git history.

``pricing.py`` is the module at every commit (its function bodies vary: harmless refactors and
the regression); ``check.py`` tells a good checkout from a bad one (shipped as ``app/check.sh``
at difficulty 1, written by ``solve.sh`` otherwise)."""

from __future__ import annotations

import random

from tmax.envgen.bundle import TaskParts
from tmax.envgen.families import family
from tmax.envgen.families.files import FamilyFiles
from tmax.envgen.families.software_engineering import run_source

FILES = FamilyFiles(__file__)

# equivalent spellings of each function body (harmless refactors), and the regressions
_FORMS = {"line_total": ["return price_cents * qty", "return qty * price_cents"],
          "discount": ["return (amount_cents * (100 - percent) + 50) // 100",
                       "return (50 + amount_cents * (100 - percent)) // 100"],
          "tax": ["return (amount_cents * rate_percent + 50) // 100",
                  "return (rate_percent * amount_cents + 50) // 100"],
          "order_total": ["net = discount(sum(line_total(p, q) for p, q in lines), percent_off)",
                          "net = discount(sum(line_total(*line) for line in lines), percent_off)"]}
_REGRESSIONS = [("discount", "return amount_cents * (100 - percent) // 100"),
                ("discount", "return (amount_cents * (100 - percent) + 99) // 100"),
                ("tax", "return amount_cents * rate_percent // 100"),
                ("tax", "return (amount_cents * rate_percent + 99) // 100")]
_REGIONS = ["AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT",
            "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "NO", "CH", "IS"]


def _render(state: dict) -> dict[str, str]:
    bodies = {f: _FORMS[f][i] for f, i in state["forms"].items()}
    if state["bug"]:
        bodies[state["bug"][0]] = state["bug"][1]
    entries = [f'    "{r}": {v},' for r, v in state["rates"].items()]
    if state["broken"] is not None:
        entries[state["broken"]] = entries[state["broken"]].rstrip(",")
    rates = '"""Tax rates by region, in percent."""\n\nRATES = {\n' + "\n".join(entries) + "\n}\n"
    return {"pricing.py": FILES.fill("pricing.py", rev=state["rev"], **bodies), "rates.py": rates}


def _history(rng: random.Random, n: int, k: int, broken: set, bug: tuple) -> tuple[list, dict]:
    """(commits as (subject, files), the state at the tip with the regression undone)."""
    regions = rng.sample(_REGIONS, len(_REGIONS))
    state = {"rev": 1, "forms": dict.fromkeys(_FORMS, 0), "bug": None, "broken": None,
             "rates": {r: rng.randint(5, 27) for r in sorted(regions[:8])}}
    commits = [("Initial import", _render(state))]
    for i in range(1, n):
        state["broken"] = None
        rate = rng.choice(list(state["rates"]))
        roll = rng.random()
        if i == k:
            state["bug"], msg = bug, f"Refactor {bug[0]}"
        elif i == n - 1:
            state["rev"] += 1
            msg = f"Release {rng.randint(2, 5)}.{rng.randint(0, 9)}.0"
        elif i - 1 in broken:
            msg = "Fix syntax error in rates table"
        elif roll < 0.3 and len(state["rates"]) < len(regions):
            new = regions[len(state["rates"])]
            state["rates"][new] = rng.randint(5, 27)
            msg = f"Add region {new}"
        elif roll < 0.55 or i in broken:
            state["rates"][rate] = rng.randint(5, 27)
            msg = f"Update {rate} rate to {state['rates'][rate]}%"
        elif roll < 0.7:
            state["rev"] += 1
            msg = f"Bump pricing revision to r{state['rev']}"
        else:
            func = rng.choice([f for f in _FORMS if i < k or f != bug[0]])
            state["forms"][func] = 1 - state["forms"][func]
            msg = f"Refactor {func}"
        if i in broken:
            state["broken"] = rng.randrange(len(state["rates"]) - 1)
        commits.append((msg, _render(state)))
    return commits, _render({**state, "bug": None, "broken": None})


def _fast_import(commits: list) -> str:
    out, prev = [], {}
    for i, (msg, files) in enumerate(commits):
        when = 1735689600 + 5400 * i
        out.append(f"commit refs/heads/main\nauthor Dev Team <dev@example.com> {when} +0000\n"
                   f"committer Dev Team <dev@example.com> {when} +0000\ndata {len(msg.encode())}\n{msg}\n")
        for path, text in files.items():
            if prev.get(path) != text:
                out.append(f"M 100644 inline {path}\ndata {len(text.encode())}\n{text}\n")
        prev.update(files)
    return "".join(out)


def _bisect_cases(rng: random.Random, bug: tuple) -> list:
    """Four order_total checks, at least one of which the regression fails."""
    good = run_source(_render({"rev": 1, "forms": dict.fromkeys(_FORMS, 0), "bug": None, "broken": None,
                               "rates": {}})["pricing.py"])["order_total"]
    bad = run_source(_render({"rev": 1, "forms": dict.fromkeys(_FORMS, 0), "bug": bug, "broken": None,
                              "rates": {}})["pricing.py"])["order_total"]
    while True:
        cases = [([(rng.randint(99, 9999), rng.randint(1, 5)) for _ in range(rng.randint(1, 3))],
                  rng.choice([0, 5, 10, 15, 25]), rng.choice([7, 19, 20, 21])) for _ in range(4)]
        if any(good(*c) != bad(*c) for c in cases):
            return [(*c, good(*c)) for c in cases]


@family(name="git_bisect_regression", domain="software_engineering", skill_type="version_control",
        verifier="exact_text", fixture="text_only", language="python",
        skills=("git_history_navigation", "git_bisect", "write_test_script", "git_revert"),
        command_complexity="bash_code")
def build(rng: random.Random, difficulty: int) -> TaskParts:
    """Find the commit that broke `order_total` in a git history of a small pricing module.
    Knobs: history length (8/40/120/300 commits); 1 ships a check script, 2+ only states the
    expected values; 3+ adds untestable (syntax-error) commits to skip; 4 also asks for a revert
    commit on main that keeps every later change."""
    n = [8, 40, 120, 300][difficulty - 1]
    k = rng.randint(max(2, n // 4), 3 * n // 4)
    broken: set[int] = set()
    while len(broken) < [0, 0, 3, 6][difficulty - 1]:
        j = rng.randint(1, n - 3)
        if j not in (k - 2, k - 1, k) and not any(abs(j - b) <= 2 for b in broken):
            broken.add(j)
    bug = rng.choice(_REGRESSIONS)
    cases = _bisect_cases(rng, bug)
    commits, fixed = _history(rng, n, k, broken, bug)
    release = commits[-1][0]
    check = FILES.fill("check.py", cases=cases)
    files = {"environment/app/.history": _fast_import(commits)}
    if difficulty == 1:
        how = ("/app/check.sh tests the current checkout of /app/project: it exits 0 when the checkout is good, 1 when "
               "it is bad and 125 when it cannot be tested.")
        files["environment/app/check.sh"] = FILES.fill("app/check.sh", check=check)
    else:
        how = ("A checkout is good when, with /app/project on sys.path, `pricing.order_total` returns these values, "
               "and bad otherwise:\n" + "".join(f"- `order_total({lines!r}, {off}, {rate})` == {want}\n"
                                                  for lines, off, rate, want in cases))
    if difficulty >= 3:
        how += ("\nSome commits are broken: `pricing` or `rates` does not even import (a syntax error), so they are "
                "neither good nor bad and must be skipped. The regression commit and its parent both import fine.")
    instruction = (
        "/app/project is a git repository (branch main) of a small pricing module. Its first commit (\"Initial "
        f"import\") is good, but at the tip of main (\"{release}\") `order_total` returns wrong totals: exactly one "
        f"commit in between introduced the regression and nothing fixed it since.\n\n{how}\n\nWrite the full "
        "40-character hash of the first bad commit to /app/first_bad.txt. When you are done, leave the repository on "
        "branch main (e.g. `git bisect reset`)."
        + ("\n\nThen undo that commit's change with one new commit on top of main (for example `git revert`), without "
           "rewriting history: main must then compute the values above again and keep every other change made "
           "since." if difficulty >= 4 else "")
    )
    test = FILES.fill("test_task.py", difficulty=difficulty, k=k, release=release, fixed=fixed, check=check)
    write = ("" if difficulty == 1 else "cat > /tmp/check.sh <<'SH'\n" + FILES.fill("app/check.sh", check=check)
             + "SH\nchmod +x /tmp/check.sh\n")
    solution = FILES.fill("solve.sh", write=write, script="/app/check.sh" if difficulty == 1 else "/tmp/check.sh",
                          revert='git revert --no-edit "$bad"\n' if difficulty >= 4 else "")
    return TaskParts(instruction, test, solution, files,
                     dockerfile_extra=("RUN git init -q -b main /app/project && cd /app/project "
                                       "&& git fast-import --quiet < /app/.history && git reset -q --hard main "
                                       "&& git config user.name 'Dev Team' && git config user.email dev@example.com "
                                       "&& rm /app/.history"
                                       + (" && chmod +x /app/check.sh" if difficulty == 1 else "")),
                     knobs={"commits": n, "untestable": len(broken), "check_script_given": difficulty == 1,
                            "revert": difficulty >= 4})
