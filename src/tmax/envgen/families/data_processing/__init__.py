"""data_processing: ETL jobs -- fixed-width parsing, merging JSON/CSV/XML sources, cleaning
contact records -- graded on the exact text of the produced files (``test_csv_output.py``, shared
by the three families)."""

from __future__ import annotations

import csv
import io

from tmax.envgen.families.files import FamilyFiles

FILES = FamilyFiles(__file__)

FIRST = ["anna", "ben", "carla", "dmitri", "elena", "farid", "greta", "hiro", "ines", "jonas", "kofi", "lena",
         "marco", "nadia", "omar", "petra", "quinn", "rosa", "sven", "tara", "umar", "vera", "wim", "yara"]
LAST = ["meyer", "okafor", "silva", "novak", "tanaka", "haddad", "larsen", "moreau", "kowalski", "brennan",
        "van dijk", "costa", "ivanova", "lindqvist", "rahman", "fischer", "dubois", "nakamura", "ortega"]
CITIES = ["Lisbon", "Oslo", "Graz", "Lyon", "Porto", "Turku", "Ghent", "Malmo", "Bergen", "Split"]


def csv_text(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def graded_csv_test(data: dict, extra: str = "") -> str:
    """Gate on the main file; full exact match (3), the header (1) and the share of expected data
    rows present (1); then any extra components."""
    return FILES.fill("test_csv_output.py", data=data, extra=extra.strip())
