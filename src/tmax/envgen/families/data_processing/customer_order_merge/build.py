"""customer_order_merge: join customers (JSON), orders (CSV) and refunds (XML) into per-customer totals."""

from __future__ import annotations

import json
import random

from tmax.envgen.bundle import TaskParts
from tmax.envgen.families import family
from tmax.envgen.families.data_processing import FIRST, LAST, csv_text, graded_csv_test
from tmax.envgen.families.files import FamilyFiles

FILES = FamilyFiles(__file__)


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _merge_sources(rng: random.Random, difficulty: int) -> tuple[dict, dict]:
    """Fixtures and the expected outputs of one merge task."""
    n_cust = 4 + 2 * difficulty
    ids = [f"C{i:03d}" for i in sorted(rng.sample(range(1, 400), n_cust))]
    customers = [{"id": c, "name": f"{rng.choice(FIRST).title()} {rng.choice(LAST).title()}",
                  "country": rng.choice(["DE", "FR", "NO", "PT", "SE", "AT", "NL"])} for c in ids]
    final = {c["id"]: c for c in customers}
    records = [dict(c, updated=f"2026-0{rng.randint(1, 4)}-1{rng.randint(0, 9)}T08:00:00Z") for c in customers]
    if difficulty >= 4:  # duplicates: the most recently updated record wins
        for c in rng.sample(records, 3):
            renamed = f"{rng.choice(FIRST).title()} {c['name'].split()[-1]}"
            newer = dict(c, name=renamed, updated="2026-06-01T09:30:00Z")
            records.insert(rng.randrange(len(records) + 1), newer)
            final[c["id"]] = newer
    orders, totals, counts, orphans = [["order_id", "customer_id", "amount", "status"]], {}, {}, []
    for i in range(6 * difficulty + 6):
        oid, cid, cents = f"O{5000 + 7 * i}", rng.choice(ids[:-1]), rng.randint(500, 90000)
        status = "cancelled" if difficulty >= 2 and rng.random() < 0.25 else "completed"
        shown = cid
        if difficulty >= 4 and rng.random() < 0.3:
            shown = rng.choice([f" {cid.lower()}", f"{cid} ", cid.lower()])
        if difficulty >= 4 and i % 7 == 3:
            cid = shown = f"C{rng.randint(400, 999)}"
            orphans.append(oid)
        orders.append([oid, shown, _money(cents), status])
        if status == "completed" and cid in final:
            totals[cid] = totals.get(cid, 0) + cents
            counts[cid] = counts.get(cid, 0) + 1
    refunds = []
    if difficulty >= 3:
        for row in rng.sample([r for r in orders[1:] if r[3] == "completed" and r[0] not in orphans], 3):
            cents = rng.randint(100, int(row[2].replace(".", "")))
            refunds.append((row[0], cents))
            cid = row[1].strip().upper()
            totals[cid] -= cents
    files = {"environment/app/customers.json": json.dumps(records if difficulty >= 4 else customers, indent=1) + "\n",
             "environment/app/orders.csv": csv_text(orders)}
    if refunds:
        body = "".join(f'  <refund order_id="{o}">\n    <amount>{_money(c)}</amount>\n  </refund>\n'
                       for o, c in refunds)
        files["environment/app/refunds.xml"] = f'<?xml version="1.0"?>\n<refunds>\n{body}</refunds>\n'
    rows = sorted(totals, key=lambda c: (-totals[c], c))
    summary = [["customer_id", "name", "country", "orders", "total"]] + [
        [c, final[c]["name"], final[c]["country"], str(counts[c]), _money(totals[c])] for c in rows]
    return files, {"summary": csv_text(summary), "orphans": "".join(o + "\n" for o in sorted(orphans))}


@family(name="customer_order_merge", domain="data_processing", skill_type="etl_pipelines",
        verifier="exact_text", fixture="text_only", language="python",
        skills=("join_datasets", "xml_parsing", "deduplicate_records", "aggregate_by_key", "csv_parsing_with_quotes"),
        command_complexity="bash_code")
def build(rng: random.Random, difficulty: int) -> TaskParts:
    """Join customers (JSON) with orders (CSV) into per-customer totals. Knobs: customers/orders
    (6-12 / 12-30), cancelled orders (2+), refunds from XML (3+), duplicate customer records with
    `updated` stamps, messy customer ids and orphan orders listed in a second file (4)."""
    files, expected = _merge_sources(rng, difficulty)
    rules = ["- An order counts when its `status` is `completed`"
             + (" (skip `cancelled` orders)." if difficulty >= 2 else " (all of them are).")]
    if difficulty >= 3:
        rules.append("- /app/refunds.xml lists refunds (`<refund order_id=...><amount>...</amount></refund>`); "
                     "subtract each refund from the total of the customer who placed that order (the order's "
                     "count stays).")
    if difficulty >= 4:
        rules += ["- /app/customers.json may hold several records with the same `id`; use the one with the latest "
                  "`updated` timestamp (ISO 8601, UTC).",
                  "- Customer ids in orders.csv may have stray spaces or lowercase letters; compare them trimmed and "
                  "uppercased.",
                  "- Orders whose customer id is not in customers.json are left out of the summary; write their "
                  "`order_id`s to /app/orphans.txt, one per line, sorted."]
    instruction = (
        "/app/customers.json is a list of customers (`id`, `name`, `country`); /app/orders.csv has columns "
        "`order_id,customer_id,amount,status` (amounts in units with two decimals).\n\n" + "\n".join(rules) + "\n\n"
        "Write /app/summary.csv with the header `customer_id,name,country,orders,total` and one line per customer "
        "with at least one counted order: `orders` is the number of counted orders and `total` the sum of their "
        "amounts" + (" minus refunds" if difficulty >= 3 else "") + ", written with exactly two decimals. Sort by "
        "`total` descending, then `customer_id` ascending. Use `\\n` line endings and no quoting (no field "
        "contains a comma)."
    )
    extra = ('g.exact_text("orphans", "/app/orphans.txt", DATA["orphans"])' if difficulty >= 4 else "")
    return TaskParts(instruction,
                     graded_csv_test({"path": "/app/summary.csv", "expected": expected["summary"],
                                     "orphans": expected["orphans"]}, extra),
                     FILES.fill("solve.sh", orphans=difficulty >= 4), files,
                     knobs={"customers": 4 + 2 * difficulty, "orders": 6 * difficulty + 6, "cancelled": difficulty >= 2,
                            "xml_refunds": difficulty >= 3, "duplicates_orphans": difficulty >= 4})
