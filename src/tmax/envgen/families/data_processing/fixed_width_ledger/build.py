"""fixed_width_ledger: convert fixed-width transaction files to CSV using a layout file."""

from __future__ import annotations

import random

from tmax.envgen.bundle import TaskParts
from tmax.envgen.families import family
from tmax.envgen.families.data_processing import CITIES, FIRST, LAST, csv_text, graded_csv_test
from tmax.envgen.families.files import FamilyFiles

FILES = FamilyFiles(__file__)


def _fw_fields(rng: random.Random, difficulty: int) -> list[tuple[str, int, str]]:
    fields = [("txn_id", rng.randint(6, 8), "int"), ("customer", rng.randint(20, 22), "text"),
              ("amount", rng.randint(9, 10), "cents"), ("qty", rng.randint(3, 4), "int")]
    if difficulty >= 2:
        fields.append(("booked", 8, "date"))
    if difficulty >= 3:
        fields.append(("city", rng.randint(10, 12), "text"))
    rng.shuffle(fields)
    if difficulty >= 4:
        fields += [("adjust", 8, "signed_cents"), ("note", rng.randint(16, 20), "text")]
    return fields


def _fw_record(rng: random.Random, fields, difficulty: int, txn: int) -> tuple[str, dict]:
    vals, raw = {}, ""
    for name, width, kind in fields:
        if kind == "int":
            v = txn if name == "txn_id" else rng.randint(1, 99)
            vals[name], cell = str(v), str(v).zfill(width)
        elif kind in ("cents", "signed_cents"):
            c = rng.randint(1, 10 ** (width - 3))
            sign = rng.choice("+-") if kind == "signed_cents" else ""
            vals[name] = f"{'-' if sign == '-' else ''}{c // 100}.{c % 100:02d}"
            cell = sign + str(c).zfill(width - len(sign))
        elif kind == "date":
            y, m, d = rng.randint(2023, 2026), rng.randint(1, 12), rng.randint(1, 28)
            vals[name], cell = f"{y}-{m:02d}-{d:02d}", f"{y}{m:02d}{d:02d}"
        else:
            first, last = rng.choice(FIRST).title(), rng.choice(LAST).title()
            text = {"customer": f"{last}, {first}" if difficulty >= 4 and rng.random() < 0.3 else f"{first} {last}",
                    "city": rng.choice(CITIES),
                    "note": rng.choice(["", "rush", "gift, wrapped", 'call "back"', "net 30"])}[name]
            pad = rng.randint(0, 2) if difficulty >= 3 else 0
            vals[name], cell = text, (" " * pad + text)[:width].ljust(width)
        raw += cell
    return (raw.rstrip() if difficulty >= 4 else raw), vals


@family(name="fixed_width_ledger", domain="data_processing", skill_type="format_conversion",
        verifier="exact_text", fixture="text_only", language="python",
        skills=("fixed_width_parsing", "csv_parsing_with_quotes", "normalize_dates", "handle_malformed_rows"),
        command_complexity="bash_code")
def build(rng: random.Random, difficulty: int) -> TaskParts:
    """Convert fixed-width transaction files to CSV using a layout file. Knobs: fields (4-8), data
    files (1/2/3/3), dates (2+), header/trailer records, CRLF files and padded text (3+), signed
    amounts, text needing CSV quoting, truncated lines and a sort order (4)."""
    fields = _fw_fields(rng, difficulty)
    prefix = 1 if difficulty >= 3 else 0
    layout, pos = ["# name start width type"], 1 + prefix
    for name, width, kind in fields:
        layout.append(f"{name} {pos} {width} {kind}")
        pos += width
    files: dict[str, str | bytes] = {"environment/app/layout.txt": "\n".join(layout) + "\n"}
    rows, txn = [], rng.randint(1000, 5000)
    for i in range([1, 2, 3, 3][difficulty - 1]):
        lines = []
        for _ in range(rng.randint(5, 8) + 2 * difficulty):
            txn += rng.randint(1, 9)
            raw, vals = _fw_record(rng, fields, difficulty, txn)
            lines.append("D" * prefix + raw)
            rows.append([vals[name] for name, _, _ in fields])
        if prefix:
            lines = [f"H{rng.randint(2023, 2026)}0101BATCH{i + 1:04d}"] + lines + [f"T{len(lines):06d}"]
        eol = "\r\n" if prefix and i == 1 else "\n"
        files[f"environment/app/data/batch_{i + 1:02d}.dat"] = eol.join(lines) + eol
    names = [name for name, _, _ in fields]
    if difficulty >= 4:
        rows.sort(key=lambda r: (r[names.index("booked")], int(r[names.index("txn_id")])))
    expected = csv_text([names] + rows)
    kinds = {"int": "a zero-padded integer; write it without leading zeros",
             "text": "text; write it with leading and trailing spaces removed",
             "cents": "an amount in cents, zero-padded; write it in units with exactly two decimals "
                      "(`000012345` -> `123.45`)",
             "date": "a date `YYYYMMDD`; write it as `YYYY-MM-DD`",
             "signed_cents": "like `cents`, but the first character is the sign `+` or `-`; write `-` only for "
                             "negative amounts (`-0004150` -> `-41.50`, `+0000099` -> `0.99`)"}
    used = sorted({k for _, _, k in fields})
    notes = [f"- `{k}`: {kinds[k]}" for k in used]
    if prefix:
        notes.append("- The first character of every line is a record type: `H` (header), `D` (detail) or `T` "
                     "(trailer). Only `D` records are transactions; skip the others. Some files use CRLF line endings.")
    if difficulty >= 4:
        notes.append("- Trailing spaces were stripped from some lines, so a line may be shorter than the layout; "
                     "treat missing characters as spaces.")
    order = ("sorted by `booked` ascending, then by `txn_id` numerically" if difficulty >= 4 else
             "in input order (files by name, then line order)")
    instruction = (
        "The files /app/data/*.dat hold fixed-width transaction records, one per line. /app/layout.txt "
        "describes the fields (lines `name start width type`, `start` is the 1-based column; `#` lines are "
        "comments). Field types:\n\n" + "\n".join(notes) + "\n\n"
        "Write /app/ledger.csv: a header line with the field names in layout order, then one line per "
        f"transaction, {order}. Separate fields with commas and use `\\n` line endings; put a field in double "
        "quotes only when it contains a comma or a double quote, doubling any double quote inside it (RFC 4180)."
    )
    solution = FILES.fill("solve.sh", prefix=bool(prefix), sort=difficulty >= 4)
    return TaskParts(instruction, graded_csv_test({"path": "/app/ledger.csv", "expected": expected}), solution,
                     files, knobs={"fields": len(fields), "files": [1, 2, 3, 3][difficulty - 1],
                                   "record_types_crlf": bool(prefix), "sorted_signed_truncated": difficulty >= 4})
