"""semverlite: a tiny semantic-versioning helper (vendored copy)."""
from .core import compare, parse, satisfies

__version__ = "0.4.2"
