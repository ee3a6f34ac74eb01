"""jq_inventory_reorder: find stock below its reorder point in nested warehouse JSON with jq.

``solve_d1.sh`` to ``solve_d4.sh`` are the oracle's jq programs per difficulty."""

from __future__ import annotations

import json
import random

from tmax.envgen.bundle import TaskParts
from tmax.envgen.families import family
from tmax.envgen.families.data_querying import WORDS, table_test
from tmax.envgen.families.files import FamilyFiles

FILES = FamilyFiles(__file__)

_WAREHOUSES = ["north", "south", "harbor", "airport", "valley", "ridge"]


def _bins(rng: random.Random, skus: list, zone: str, difficulty: int, depth: int = 0) -> list:
    bins = []
    for b in range(rng.randint(1, 3)):
        items = []
        for sku in [skus.pop() for _ in range(min(len(skus), rng.randint(1, 3)))]:
            item = {"sku": sku, "name": rng.choice(WORDS), "qty": rng.randint(0, 20), "reorder_at": rng.randint(3, 15)}
            if difficulty >= 3 and rng.random() < 0.2:
                del item["qty"]
            if difficulty >= 3 and rng.random() < 0.2:
                del item["reorder_at"]
            if difficulty >= 4:
                item.pop("reorder_at", None)
            items.append(item)
        entry = {"bin": f"{zone}{depth}{b + 1}", "items": items}
        if difficulty >= 4 and depth < 2 and rng.random() < 0.5:
            entry["sub_bins"] = _bins(rng, skus, zone, difficulty, depth + 1)
        bins.append(entry)
    return bins


def _warehouse(rng: random.Random, name: str, skus: list, difficulty: int) -> dict:
    zones = [{"zone": z, "bins": _bins(rng, skus, z, difficulty)} for z in "ABCD"[:1 + difficulty // 2]]
    return {"warehouse": name, "updated": f"2025-06-{rng.randint(1, 28):02d}", "zones": zones}


def _walk_items(node):
    if isinstance(node, dict):
        yield from node.get("items", [])
        for value in node.values():
            if isinstance(value, (list, dict)):
                yield from _walk_items(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk_items(value)


def _jq_answer(houses: list, catalog: dict, difficulty: int) -> str:
    if difficulty >= 4:
        totals = dict.fromkeys(catalog, 0)
        for item in (i for h in houses for i in _walk_items(h)):
            totals[item["sku"]] += item.get("qty", 0)
        rows = [(-(c["reorder_at"] - totals[s]), s, f"{s} {totals[s]} {c['reorder_at']} {c['reorder_at'] - totals[s]}")
                for s, c in catalog.items() if not c["discontinued"] and totals[s] < c["reorder_at"]]
        return "".join(r[2] + "\n" for r in sorted(rows))
    rows = []
    for h in houses:
        for z in h["zones"]:
            for b in z["bins"]:
                for it in b["items"]:
                    short = it.get("reorder_at", 5) - it.get("qty", 0)
                    line = {1: f"{it['sku']} {it.get('qty')}", 2: f"{it['sku']} {z['zone']}/{b['bin']} {short}"}.get(
                        difficulty, f"{h['warehouse']} {it['sku']} {z['zone']}/{b['bin']} {short}")
                    if short > 0:
                        rows.append(((h["warehouse"], -short if difficulty > 1 else 0, it["sku"]), line))
    return "".join(line + "\n" for _, line in sorted(rows))


@family(name="jq_inventory_reorder", domain="data_querying", skill_type="json_querying",
        verifier="exact_text", fixture="text_only", language="bash",
        skills=("jq_filter", "traverse_nested_json", "handle_missing_fields", "sort_multi_key"),
        command_complexity="bash_only")
def build(rng: random.Random, difficulty: int) -> TaskParts:
    """Find stock below its reorder point in nested warehouse JSON. Knobs: 1 one file, flat
    filter; 2 zone/bin paths and a computed shortfall sort; 3 several warehouses with missing
    fields and defaults; 4 totals per SKU across warehouses and recursive sub-bins, reorder
    points and discontinued flags from a separate catalog."""
    pool = [f"{rng.choice('BCDFGHKM')}{rng.choice('PRSTVX')}-{n}" for n in rng.sample(range(1000, 9999), 40)]
    n_houses = 1 if difficulty <= 2 else 2 + difficulty // 2
    names = rng.sample(_WAREHOUSES, n_houses)
    if difficulty >= 4:
        catalog = {s: {"reorder_at": rng.randint(20, 110), "discontinued": rng.random() < 0.2} for s in pool[:14]}
        houses = [_warehouse(rng, n, [rng.choice(pool[:14]) for _ in range(40)], difficulty) for n in names]
    else:
        catalog, houses = {}, [_warehouse(rng, n, rng.sample(pool, 40), difficulty) for n in names]
    files = {f"environment/app/inventory/{h['warehouse']}.json": json.dumps(h, indent=2) + "\n" for h in houses}
    fmt = {1: "`SKU QTY` for every item whose qty is below its reorder_at, sorted by SKU",
           2: "`SKU ZONE/BIN SHORTFALL` (SHORTFALL = reorder_at - qty) for every item whose qty is below its "
              "reorder_at, sorted by shortfall descending, then SKU",
           3: "`WAREHOUSE SKU ZONE/BIN SHORTFALL` (SHORTFALL = reorder_at - qty; a missing qty means 0 and a "
              "missing reorder_at means 5) for every item whose qty is below its reorder_at, sorted by "
              "warehouse, then shortfall descending, then SKU"}
    layout = ("Each file /app/inventory/<warehouse>.json has `warehouse` and `zones`; each zone has `zone` and "
              "`bins`; each bin has `bin` and `items` (objects with sku, name, qty, reorder_at, ...).")
    if difficulty >= 4:
        files["environment/app/catalog.json"] = json.dumps(catalog, indent=2) + "\n"
        layout = layout.replace(", reorder_at, ...)", ")") + (
            " A bin may also have `sub_bins`, a list of bins (which may nest further); their items count too. "
            "A SKU can appear in many bins and warehouses; an item without qty holds 0. /app/catalog.json maps "
            "each SKU to its `reorder_at` and `discontinued` flag.")
        ask = ("`SKU TOTAL REORDER_AT SHORTFALL` for every catalog SKU that is not discontinued and whose total "
               "qty over all warehouses and bins (0 if it is stocked nowhere) is below its reorder_at; "
               "SHORTFALL = REORDER_AT - TOTAL; sorted by shortfall descending, then SKU")
    else:
        ask = fmt[difficulty]
    instruction = (f"{layout}\n\nWrite /app/reorder.txt with one line {ask}. Fields are separated by single "
                   "spaces, no header; strings sort in plain byte order.")
    expected = {"/app/reorder.txt": _jq_answer(houses, catalog, difficulty)}
    return TaskParts(instruction, table_test(expected), FILES.read(f"solve_d{difficulty}.sh"), files,
                     knobs={"warehouses": n_houses, "computed_fields": difficulty >= 2,
                            "missing_fields": difficulty >= 3, "recursive_catalog_join": difficulty >= 4})
