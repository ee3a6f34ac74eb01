"""Parse, compare and match semantic versions."""
import re

_RX = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?")


def parse(text):
    """(major, minor, patch, prerelease identifiers); build metadata is dropped."""
    m = _RX.fullmatch(text.strip())
    if not m:
        raise ValueError(f"not a version: {text!r}")
    pre = tuple(m.group(4).split(".")) if m.group(4) else ()
    return int(m.group(1)), int(m.group(2)), int(m.group(3)), pre


def _cmp_pre(a, b):
    if a == b:
        return 0
    if not a:
        return 1
    if not b:
        return -1
    for x, y in zip(a, b):
        if x == y:
            continue
        if x.isdigit() and y.isdigit():
            return -1 if int(x) < int(y) else 1
        if x.isdigit() != y.isdigit():
            return -1 if x.isdigit() else 1
        return -1 if x < y else 1
    return -1 if len(a) < len(b) else 1


def compare(a, b):
    """-1, 0 or 1 as version a is lower than, equal to or higher than version b."""
    va, vb = parse(a), parse(b)
    if va[:3] != vb[:3]:
        return -1 if va[:3] < vb[:3] else 1
    return _cmp_pre(va[3], vb[3])


def _expand(op, v):
    """The plain comparators a caret or tilde comparator stands for."""
    major, minor, patch, _ = parse(v)
    if op == "~":
        return [(">=", v), ("<", f"{major}.{minor + 1}.0")]
    if major > 0:
        upper = f"{major + 1}.0.0"
    elif minor > 0:
        upper = f"0.{minor + 1}.0"
    else:
        upper = f"0.0.{patch + 1}"
    return [(">=", v), ("<", upper)]


_OPS = {">=": lambda c: c >= 0, ">": lambda c: c > 0, "<=": lambda c: c <= 0, "<": lambda c: c < 0,
        "=": lambda c: c == 0}


def satisfies(version, spec):
    """True when version meets every whitespace-separated comparator of spec."""
    for token in spec.split():
        op, v = re.fullmatch(r"(>=|<=|>|<|=|\^|~)?(.+)", token).groups()
        pairs = _expand(op, v) if op in ("^", "~") else [(op or "=", v)]
        if not all(_OPS[o](compare(version, w)) for o, w in pairs):
            return False
    return True
