"""software_engineering: fix and extend code — a vendored Python package, a C module, a git history."""

from __future__ import annotations


def run_source(source: str) -> dict:
    """The globals after running ``source``: a family's own reference program, never input."""
    scope: dict = {}
    exec(compile(source, "<reference>", "exec"), scope)
    return scope
