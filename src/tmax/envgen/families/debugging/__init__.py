"""debugging: repair programs and builds that are broken in seeded ways.

Bugs are injected by replacing exact snippets of a correct source (a real file in the family's
folder) with a faulty variant, so the reference solution is simply the correct source. Every
test gates on the broken file having been changed, and the unfixed program fails every graded
component, so doing nothing scores 0.
"""

from __future__ import annotations


def inject(source: str, bugs: list[tuple[str, str]]) -> str:
    """``source`` with each (good, bad) snippet replaced; every good snippet occurs exactly once."""
    for good, bad in bugs:
        assert source.count(good) == 1, good
        source = source.replace(good, bad)
    return source
