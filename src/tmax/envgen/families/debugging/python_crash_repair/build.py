"""python_crash_repair: make a Python report script survive the quirks of its input.

``summarize.py`` is the robust script (it also computes the expected reports here); the task
ships it with fragile spots injected."""

from __future__ import annotations

import json
import random

from tmax.envgen.bundle import TaskParts
from tmax.envgen.families import family
from tmax.envgen.families.debugging import inject
from tmax.envgen.families.files import FamilyFiles

FILES = FamilyFiles(__file__)
_SUMMARIZE = FILES.read("summarize.py")

# quirk of the input -> (correct snippet, fragile snippet that crashes on it)
_FRAGILE = {
    "utf8_names": ('encoding="utf-8"', 'encoding="ascii"'),
    "blank_lines": ("            if not line.strip():\n                continue\n", ""),
    "qty_strings": ('int(rec["qty"])', 'rec["qty"]'),
    "no_coupon": ('rec.get("coupon_pct", 0)', 'rec["coupon_pct"]'),
    "slash_dates": ('rec["date"].replace("/", "-")', 'rec["date"]'),
    "all_cancelled": ('e["revenue"] // e["orders"] if e["orders"] else 0', 'e["revenue"] // e["orders"]'),
}
_RULES = ("The input is UTF-8; customer names may contain non-ASCII letters. Blank (or whitespace-only) lines "
          "are ignored. `qty` is an integer or a string of digits. `coupon_pct` may be absent (no discount). "
          "`date` is YYYY-MM-DD or YYYY/MM/DD. A region all of whose orders are cancelled still gets a line.")
_PEOPLE = ["ana", "ben", "chen", "dara", "eli", "femi", "gus", "hana", "ivo", "jon"]
_ACCENTED = ["zoë", "josé", "łukasz", "søren", "ångström", "müller"]


def _orders_jsonl(rng: random.Random, quirks: set, n: int) -> str:
    regions = rng.sample(["alps", "bay", "delta", "fjord", "mesa", "plains", "steppe"], 3)
    recs = []
    for i in range(n):
        live = i < len(regions) or rng.random() < 0.8
        recs.append({"id": 1000 + i, "customer": rng.choice(_PEOPLE), "region": regions[i % len(regions)],
                     "date": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                     "status": rng.choice(["paid", "shipped"]) if live else "cancelled",
                     "qty": rng.randint(1, 9), "price_cents": rng.randint(99, 25000),
                     "coupon_pct": rng.choice([0, 5, 10, 25])})
    if "all_cancelled" in quirks:
        recs += [dict(r, region="tundra", status="cancelled") for r in rng.sample(recs, 2)]
    for k, rec in enumerate(recs):
        first = k == 0  # the first record shows every quirk, the others some of them
        if "utf8_names" in quirks and (first or rng.random() < 0.3):
            rec["customer"] = rng.choice(_ACCENTED)
        if "qty_strings" in quirks and (first or rng.random() < 0.3):
            rec["qty"] = str(rec["qty"])
        if "no_coupon" in quirks and (first or rng.random() < 0.3):
            del rec["coupon_pct"]
        if "slash_dates" in quirks and (first or rng.random() < 0.3):
            rec["date"] = rec["date"].replace("-", "/")
    rng.shuffle(recs)
    lines = [json.dumps(r, ensure_ascii=False) for r in recs]
    if "blank_lines" in quirks:
        for _ in range(3):
            lines.insert(rng.randint(0, len(lines)), rng.choice(["", "   ", "\t"]))
    return "\n".join(lines) + "\n"


def _reference_summary(text: str) -> str:
    namespace: dict = {}
    exec(compile(_SUMMARIZE, "summarize.py", "exec"), namespace)  # our own reference program
    records = [json.loads(line) for line in text.splitlines() if line.strip()]
    return "\n".join(namespace["summarize"](records)) + "\n"


@family(name="python_crash_repair", domain="debugging", skill_type="fix_crash",
        verifier="exact_text", fixture="text_only", language="python",
        skills=("read_traceback", "reproduce_crash", "handle_edge_cases", "parse_json_lines"))
def build(rng: random.Random, difficulty: int) -> TaskParts:
    """A Python report script crashes on quirks of its input (non-ASCII text, blank lines, string
    quantities, missing keys, another date format, regions with only cancelled orders). Knobs:
    number of fragile spots 1/2/3/5; each crash hides the next. Graded on the real input and on
    one hidden input per quirk, so every fix earns credit on its own."""
    quirks = rng.sample(sorted(_FRAGILE), {1: 1, 2: 2, 3: 3, 4: 5}[difficulty])
    broken = inject(_SUMMARIZE, [_FRAGILE[q] for q in quirks])
    data = _orders_jsonl(rng, set(_FRAGILE), 10 + 8 * difficulty)
    expected = {"orders.jsonl": (data, _reference_summary(data))}
    for q in quirks:
        text = _orders_jsonl(rng, {q}, 12)
        expected[f"hidden_{q}.jsonl"] = (text, _reference_summary(text))
    instruction = (
        "The nightly job `python3 /app/report/summarize.py /app/data/orders.jsonl /app/out/summary.txt` crashes "
        "with a traceback. The input has one JSON object per line with id, customer, region, date, status, qty, "
        f"price_cents and coupon_pct. {_RULES}\n\n"
        "The output has one line per region (sorted by name): `REGION ORDERS REVENUE AVERAGE LAST`, where ORDERS "
        "counts the region's orders whose status is not `cancelled`, REVENUE is the sum of their totals (total = "
        "qty * price_cents minus floor(qty * price_cents * coupon_pct / 100)), AVERAGE = REVENUE // ORDERS in whole "
        "cents (0 without orders), both printed as currency units with two decimals (cents / 100), and LAST is the "
        "latest date of those orders as YYYY-MM-DD (`-` without orders).\n\n"
        "Fix /app/report/summarize.py in place so that it follows these rules for any input of this form, then run "
        "the job to write /app/out/summary.txt. The grader also runs the script on other inputs.")
    test = FILES.fill("test_task.py", original=broken, expected=expected)
    solution = FILES.fill("solve.sh", summarize=_SUMMARIZE)
    files = {"environment/app/report/summarize.py": broken, "environment/app/data/orders.jsonl": data.encode()}
    return TaskParts(instruction, test, solution, files, dockerfile_extra="RUN mkdir -p /app/out",
                     knobs={"fragile_spots": len(quirks), "records": 10 + 8 * difficulty, "hidden_inputs": len(quirks)})
