"""sqlite_revenue_report: report revenue from a shop's SQLite database.

``solve_d1.sh`` to ``solve_d3.sh`` are the oracle's queries per difficulty (4 uses 3's)."""

from __future__ import annotations

import random

from tmax.envgen.bundle import TaskParts
from tmax.envgen.families import family
from tmax.envgen.families.data_querying import WORDS, csv_rows, table_test
from tmax.envgen.families.files import FamilyFiles

FILES = FamilyFiles(__file__)

_REGIONS = ["north", "south", "east", "west", "central", "coast", "alpine"]
_CATEGORIES = ["books", "garden", "toys", "audio", "kitchen", "sports", "office"]


def _shop_data(rng: random.Random, difficulty: int) -> dict:
    regions = rng.sample(_REGIONS, 3 + difficulty // 2)
    cats = rng.sample(_CATEGORIES, 3 + difficulty // 2)
    customers = [(i, f"{rng.choice(WORDS)}_{i}", rng.choice(regions)) for i in range(1, 8 + 4 * difficulty)]
    if difficulty >= 4:  # some customers have no region
        customers = [(i, n, None if i % 5 == 0 else r) for i, n, r in customers]
    products = [(i, f"{rng.choice(WORDS)}-{i}", rng.choice(cats), rng.randint(2, 300) * 25)
                for i in range(1, 7 + 3 * difficulty)]
    orders, items, refunds = [], [], []
    for oid in range(1, 20 + 20 * difficulty):
        status = rng.choice(["shipped", "shipped", "shipped", "pending", "cancelled"])
        orders.append((oid, rng.choice(customers)[0], f"2025-{rng.randint(1, 6):02d}-{rng.randint(1, 28):02d}", status))
        for prod in rng.sample(products, rng.randint(1, 4)):
            qty = rng.randint(1, 9)
            items.append((oid, prod[0], qty))
            if difficulty >= 4 and status == "shipped" and rng.random() < 0.2:
                refunds.append((oid, prod[0], rng.randint(1, qty)))
    return {"customers": customers, "products": products, "orders": orders, "items": items, "refunds": refunds}


def _shop_sql(d: dict) -> str:
    def lit(v):
        return "NULL" if v is None else str(v) if isinstance(v, int) else "'" + v + "'"
    out = ["CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, region TEXT);",
           "CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, category TEXT, price_cents INTEGER);",
           "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, order_date TEXT, status TEXT);",
           "CREATE TABLE order_items (order_id INTEGER, product_id INTEGER, qty INTEGER);",
           "CREATE TABLE refunds (order_id INTEGER, product_id INTEGER, qty INTEGER);"]
    for table, key in (("customers", "customers"), ("products", "products"), ("orders", "orders"),
                       ("order_items", "items"), ("refunds", "refunds")):
        out += [f"INSERT INTO {table} VALUES ({', '.join(lit(v) for v in row)});" for row in d[key]]
    return "\n".join(out) + "\n"


def _shop_answers(d: dict, difficulty: int, lo: str, hi: str) -> tuple[dict, int]:
    cust = {c[0]: c for c in d["customers"]}
    prod = {p[0]: p for p in d["products"]}
    orders = {o[0]: o for o in d["orders"]}
    refund = {(o, p): q for o, p, q in d["refunds"]}
    units, by_region, monthly, per_cust = {}, {}, {}, {}
    for oid, pid, qty in d["items"]:
        units[prod[pid][2]] = units.get(prod[pid][2], 0) + qty
        _, cid, day, status = orders[oid]
        if status != "shipped":
            continue
        cents = (qty - refund.get((oid, pid), 0)) * prod[pid][3]
        region = cust[cid][2] or "UNKNOWN"
        orders_set, rev = by_region.get(region, (set(), 0))
        by_region[region] = (orders_set | {oid}, rev + cents)
        if lo <= day <= hi:
            monthly[(day[:7], region)] = monthly.get((day[:7], region), 0) + cents
        per_cust[cust[cid][1]] = per_cust.get(cust[cid][1], 0) + cents
    if difficulty == 1:
        rows = sorted(units.items(), key=lambda kv: (-kv[1], kv[0]))
        return {"/app/report.csv": csv_rows("category,units", rows)}, 0
    if difficulty == 2:
        rows = sorted(((r, len(s), v) for r, (s, v) in by_region.items()), key=lambda t: (-t[2], t[0]))
        return {"/app/report.csv": csv_rows("region,orders,revenue_cents", rows)}, 0
    values = sorted(monthly.values())
    floor = values[len(values) // 3] // 100 * 100
    rows = sorted(((m, r, v) for (m, r), v in monthly.items() if v >= floor), key=lambda t: (t[0], -t[2], t[1]))
    top = sorted(per_cust.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    return {"/app/report.csv": csv_rows("month,region,revenue_cents", rows),
            "/app/top_customers.csv": csv_rows("customer,revenue_cents", top)}, floor


def _shop_solution(difficulty: int, lo: str, hi: str, floor: int) -> str:
    """The oracle's sqlite3 calls: ``solve_d1.sh`` to ``solve_d3.sh`` (difficulty 4 asks what 3 does)."""
    if difficulty <= 2:
        return FILES.read(f"solve_d{difficulty}.sh")
    return FILES.fill("solve_d3.sh", lo=lo, hi=hi, floor=floor)


@family(name="sqlite_revenue_report", domain="data_querying", skill_type="sql_querying",
        verifier="exact_text", fixture="text_only", language="bash",
        skills=("sql_select_aggregate", "sql_join", "sql_filter_having", "write_csv"),
        command_complexity="bash_only")
def build(rng: random.Random, difficulty: int) -> TaskParts:
    """Report revenue from a shop's SQLite database (/app/shop.db). Knobs: 1 units per category
    (one join); 2 shipped revenue per region (four-table join, distinct counts); 3 monthly revenue
    in a date window with a HAVING floor plus a top-customers file; 4 the same net of partial
    refunds (LEFT JOIN) with NULL regions reported as UNKNOWN."""
    data = _shop_data(rng, difficulty)
    lo = f"2025-0{rng.randint(1, 2)}-{rng.randint(1, 28):02d}"
    hi = f"2025-0{rng.randint(5, 6)}-{rng.randint(1, 28):02d}"
    expected, floor = _shop_answers(data, difficulty, lo, hi)
    schema = ("Tables: customers(id, name, region), products(id, name, category, price_cents), "
              "orders(id, customer_id, order_date 'YYYY-MM-DD', status), order_items(order_id, product_id, qty), "
              "refunds(order_id, product_id, qty).")
    revenue = "the sum of qty * price_cents over the order items of orders with status 'shipped'"
    if difficulty >= 4:
        revenue += (", where a refunded item counts only its net quantity (qty minus the refunded qty from "
                    "table refunds); customers whose region is NULL count under the region `UNKNOWN`")
    asks = {
        1: "Write /app/report.csv with header `category,units`: the total quantity sold per product category "
           "over all order items (any order status), sorted by units descending, then category.",
        2: f"Write /app/report.csv with header `region,orders,revenue_cents`: per customer region, the number "
           f"of distinct shipped orders and the revenue ({revenue}), sorted by revenue descending, then region.",
    }
    later = (f"Revenue means {revenue}.\n\n1. Write /app/report.csv with header `month,region,revenue_cents`: the "
             f"revenue per month (`YYYY-MM` of order_date) and customer region, counting only orders dated from "
             f"{lo} to {hi} inclusive, keeping only groups with revenue_cents >= {floor}; sorted by month, then "
             f"revenue descending, then region.\n2. Write /app/top_customers.csv with header "
             f"`customer,revenue_cents`: the 3 customers (by name) with the highest revenue over all dates, "
             f"sorted by revenue descending, then name.")
    instruction = (f"/app/shop.db is a SQLite database of a small web shop. {schema}\n\n"
                   f"{asks.get(difficulty, later)}\n\nCSV files are comma-separated with no spaces and no quoting; "
                   "strings sort in plain byte order.")
    return TaskParts(instruction, table_test(expected), _shop_solution(difficulty, lo, hi, floor),
                     {"environment/app/shop.sql": _shop_sql(data)},
                     dockerfile_extra="RUN sqlite3 /app/shop.db < /app/shop.sql && rm /app/shop.sql",
                     knobs={"tables_joined": {1: 2, 2: 4}.get(difficulty, 5), "outputs": 1 if difficulty < 3 else 2,
                            "having_window": difficulty >= 3, "refunds_and_nulls": difficulty >= 4})
