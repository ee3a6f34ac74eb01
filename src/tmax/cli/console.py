"""The terminal every verb prints to, and its progress bars."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console()


def progress_bars(**kwargs) -> Progress:
    """Bars of ``description  ━━━━  done/total  elapsed`` on the shared console."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, **kwargs)
