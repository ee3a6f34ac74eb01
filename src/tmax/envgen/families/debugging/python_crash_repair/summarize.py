"""Summarise orders per region: python3 summarize.py INPUT.jsonl OUTPUT.txt"""
import json
import sys
from datetime import date


def load(path):
    records = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            records.append(json.loads(line))
    return records


def order_total(rec):
    gross = int(rec["qty"]) * rec["price_cents"]
    return gross - gross * rec.get("coupon_pct", 0) // 100


def cents(value):
    return f"{value // 100}.{value % 100:02d}"


def summarize(records):
    regions = {}
    for rec in records:
        entry = regions.setdefault(rec["region"], {"orders": 0, "revenue": 0, "last": None})
        if rec["status"] == "cancelled":
            continue
        entry["orders"] += 1
        entry["revenue"] += order_total(rec)
        day = date.fromisoformat(rec["date"].replace("/", "-"))
        if entry["last"] is None or day > entry["last"]:
            entry["last"] = day
    lines = []
    for region in sorted(regions):
        e = regions[region]
        avg = e["revenue"] // e["orders"] if e["orders"] else 0
        last = e["last"].isoformat() if e["last"] else "-"
        lines.append(f"{region} {e['orders']} {cents(e['revenue'])} {cents(avg)} {last}")
    return lines


def main(src, dst):
    with open(dst, "w") as f:
        f.write("\n".join(summarize(load(src))) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
