"""data_querying: answer questions with SQL, jq and joins over the fixture data.

Every family here writes its answer files as text and is graded by exact comparison
(``exact_text``) plus a partial "rows" score (the share of expected lines present), with the
verifier ``test_tables.py``.
"""

from __future__ import annotations

import csv
import io

from tmax.envgen.families.files import FamilyFiles

FILES = FamilyFiles(__file__)

WORDS = ["amber", "basil", "cedar", "delta", "ember", "fjord", "grove", "harbor", "iris", "juniper",
         "kelp", "lotus", "maple", "nova", "onyx", "pine", "quartz", "raven", "sage", "tundra"]


def table_test(expected: dict[str, str]) -> str:
    return FILES.fill("test_tables.py", expected=expected)


def csv_rows(header: str, rows) -> str:
    """CSV text with standard quoting (only fields with a comma are quoted), LF line ends."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header.split(","))
    writer.writerows(rows)
    return buf.getvalue()
