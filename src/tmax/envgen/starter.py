"""Starter tasks: short shell tasks that a model trained from scratch on 2 CPU cores can learn.

The procedural families (``tmax.envgen.families``) need tens of commands and real programming;
a randomly initialised model with a few million weights cannot get a single reward there in a
CPU budget of minutes, so RL on them would see only all-zero groups. The tiny recipe trains on
these instead: one-sentence instructions whose parameters (words, file and directory names,
numbers) are all in the instruction, solved in 2-4 commands (look, act, check). Partial
credit (a file that exists but holds the wrong text scores half) gives RL graded rewards.

Every task of these kinds has the same environment (the base image, workdir /app, no
fixtures), so all of them share one image and one bwrap rootfs: no per-task build. The
exploration kinds (``tmax.envgen.starter_explore``: ``read_secret``, ``find_word``,
``run_tool``, ``count_files``) put the answer in the sandbox instead; their fixtures come from
six layouts per kind, so they add at most six images each. ``split(..., kinds=...)`` picks
the kinds; ``DEFAULT_KINDS`` are the first six. The reference solution has one
command per line, so the ``stepwise`` agent turns it into a multi-call trajectory for SFT.

``split(out, n_train, n_heldout, seed, n_rl)`` writes ``out/train``, ``out/heldout`` and
optionally ``out/rl`` with no task instance (kind + parameters) in two of them: held-out tasks
are unseen combinations of the same kinds, and RL tasks are ones the SFT demonstrations (made
from ``train``) never showed. Deterministic per seed; rerunning keeps the tasks already written.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

from tmax.envgen.bundle import TaskParts, write_task
from tmax.envgen.starter_explore import EXPLORE_KINDS

# Small pools on purpose: a model trained from scratch learns to carry a value from the
# instruction into a command in a few hundred steps when each value is common (8 words, 6 file
# names); with 24 words it was still at chance after 400 SFT steps. Held-out tasks are unseen
# combinations of these values.
WORDS = ["apple", "river", "stone", "cloud", "tiger", "maple", "ocean", "piano"]
FILES = ["notes.txt", "out.txt", "answer.txt", "result.txt", "data.txt", "log.txt"]
DIRS = ["docs", "build", "cache", "assets", "backup"]
NUMBERS = range(2, 13)

_GRADER = "from tmax_verify import Grader\nimport os\ng = Grader()\n"


def _file_text(path: str) -> str:
    return f"open({path!r}).read() if os.path.isfile({path!r}) else None"


def write_word(rng: random.Random) -> tuple[tuple, TaskParts]:
    word, name = rng.choice(WORDS), rng.choice(FILES)
    path = f"/app/{name}"
    test = _GRADER + f"""text = {_file_text(path)}
g.check("file exists", text is not None)
g.check("holds the word", text is not None and text.strip() == {word!r})
g.finish()
"""
    return ("write_word", word, name), TaskParts(
        f"Write the word {word} to the file {path}.", test, f"ls /app\necho {word} > {path}\ncat {path}\n")


def make_dir(rng: random.Random) -> tuple[tuple, TaskParts]:
    folder, name = rng.choice(DIRS), rng.choice(FILES)
    test = _GRADER + f"""g.check("directory exists", os.path.isdir("/app/{folder}"))
g.check("file inside", os.path.isfile("/app/{folder}/{name}"))
g.finish()
"""
    return ("make_dir", folder, name), TaskParts(
        f"Create the directory /app/{folder} and an empty file /app/{folder}/{name} in it.", test,
        f"ls /app\nmkdir -p /app/{folder}\ntouch /app/{folder}/{name}\nls /app/{folder}\n")


def copy_word(rng: random.Random) -> tuple[tuple, TaskParts]:
    word = rng.choice(WORDS)
    first, second = rng.sample(FILES, 2)
    test = _GRADER + "".join(f"""text = {_file_text(f"/app/{name}")}
g.check("{name}", text is not None and text.strip() == {word!r})
""" for name in (first, second)) + "g.finish()\n"
    return ("copy_word", word, first, second), TaskParts(
        f"Write the word {word} to /app/{first}, then copy that file to /app/{second}.", test,
        f"ls /app\necho {word} > /app/{first}\ncp /app/{first} /app/{second}\ncat /app/{second}\n")


def count_to(rng: random.Random) -> tuple[tuple, TaskParts]:
    n, name = rng.choice(NUMBERS), rng.choice(FILES)
    path = f"/app/{name}"
    expected = "".join(f"{i}\n" for i in range(1, n + 1))
    test = _GRADER + f"""text = {_file_text(path)}
g.check("file exists", text is not None)
g.check("the numbers", text is not None and text.split() == {expected.split()!r})
g.finish()
"""
    return ("count_to", n, name), TaskParts(
        f"Write the numbers from 1 to {n}, one per line, to the file {path}.", test,
        f"ls /app\nseq {n} > {path}\ncat {path}\n")


def two_lines(rng: random.Random) -> tuple[tuple, TaskParts]:
    first, second = rng.sample(WORDS, 2)
    name = rng.choice(FILES)
    path = f"/app/{name}"
    test = _GRADER + f"""text = {_file_text(path)}
lines = text.split() if text is not None else []
g.check("file exists", text is not None)
g.check("first line", lines[:1] == [{first!r}])
g.check("second line", lines[1:] == [{second!r}])
g.finish()
"""
    return ("two_lines", first, second, name), TaskParts(
        f"Write two lines to the file {path}: first the word {first}, then the word {second}.", test,
        f"ls /app\necho {first} > {path}\necho {second} >> {path}\ncat {path}\n")


def add_numbers(rng: random.Random) -> tuple[tuple, TaskParts]:
    a, b, name = rng.choice(NUMBERS), rng.choice(NUMBERS), rng.choice(FILES)
    path = f"/app/{name}"
    test = _GRADER + f"""text = {_file_text(path)}
g.check("file exists", text is not None)
g.check("the sum", text is not None and text.strip() == "{a + b}")
g.finish()
"""
    return ("add_numbers", a, b, name), TaskParts(
        f"Write the sum of {a} and {b} to the file {path}.", test,
        f"ls /app\necho $(( {a} + {b} )) > {path}\ncat {path}\n")


KINDS: dict[str, tuple[str, Callable[[random.Random], tuple[tuple, TaskParts]]]] = {
    "write_word": ("file_operations", write_word),
    "make_dir": ("file_operations", make_dir),
    "copy_word": ("file_operations", copy_word),
    "count_to": ("data_processing", count_to),
    "two_lines": ("data_processing", two_lines),
    "add_numbers": ("scientific_computing", add_numbers),
    **EXPLORE_KINDS,  # the answer is in the sandbox, not the instruction (tmax.envgen.starter_explore)
}
# What ``split`` draws unless told otherwise: the kinds with every value in the instruction.
DEFAULT_KINDS = ("write_word", "make_dir", "copy_word", "count_to", "two_lines", "add_numbers")


def _instances(n: int, rng: random.Random, exclude: set[tuple], kinds: list[str], known_share: float = 0.0
               ) -> list[tuple[str, tuple, TaskParts]]:
    """``n`` distinct task instances, ``kinds`` in turn (a kind whose instances run out drops
    out), none whose key is in ``exclude``. ``known_share``: see ``tmax.envgen.starter_explore``."""
    kinds, found, misses = list(kinds), [], 0
    while len(found) < n:
        if not kinds:
            raise ValueError(f"cannot draw {n} distinct starter tasks (about {len(exclude)} exist); ask for fewer")
        kind = kinds[len(found) % len(kinds)]
        make = KINDS[kind][1]
        key, parts = make(rng, known_share) if kind in EXPLORE_KINDS else make(rng)
        if key in exclude:
            misses += 1
            if misses > 500:  # this kind has no unused instance left
                kinds.remove(kind)
                misses = 0
            continue
        misses = 0
        exclude.add(key)
        found.append((kind, key, parts))
    return found


def _deal(pool: list[tuple[str, tuple, TaskParts]], n: int) -> list[bool]:
    """Which of ``pool`` to set aside (``n`` of them): each kind gives its share (largest
    remainders settle the rounding), spread evenly over that kind's instances."""
    by_kind: dict[str, list[int]] = {}
    for i, (kind, _, _) in enumerate(pool):
        by_kind.setdefault(kind, []).append(i)
    exact = {k: len(v) * n / len(pool) for k, v in by_kind.items()} if pool else {}
    share = {k: int(x) for k, x in exact.items()}
    for k in sorted(exact, key=lambda k: share[k] - exact[k])[:n - sum(share.values())]:
        share[k] += 1
    chosen = [False] * len(pool)
    for kind, indices in by_kind.items():
        for j, i in enumerate(indices):
            chosen[i] = (j + 1) * share[kind] // len(indices) > j * share[kind] // len(indices)
    return chosen


def split(out: Path, n_train: int, n_heldout: int, seed: int = 0, n_rl: int = 0,
          kinds: list[str] | tuple[str, ...] = DEFAULT_KINDS, known_share: float = 0.0) -> tuple[Path, ...]:
    """Write ``out/heldout`` (drawn first), ``out/train`` and, when ``n_rl`` > 0, ``out/rl``, all
    disjoint, from the starter ``kinds`` (names in ``KINDS``); returns ``(train, heldout)``,
    plus ``rl`` when asked for.

    ``train`` and ``rl`` are dealt from one draw of ``n_train + n_rl`` instances, spread evenly,
    so both get a share of every kind (some kinds have only a few dozen instances).
    ``known_share``: the share of exploration-kind instances whose reference solution writes the
    known answer without looking (``tmax.envgen.starter_explore``); only the train split's
    solutions are ever imitated."""
    if not 0.0 <= known_share <= 1.0:
        raise ValueError(f"known_share must be between 0 and 1, got {known_share}")
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise ValueError(f"unknown starter kind(s) {unknown} (or none given); choose from {', '.join(KINDS)}")
    out = Path(out)
    rng = random.Random(f"starter:{seed}")
    seen: set[tuple] = set()
    heldout = _instances(n_heldout, rng, seen, list(kinds), known_share)
    pool = _instances(n_train + n_rl, rng, seen, list(kinds), known_share)
    to_rl = _deal(pool, n_rl)
    subsets = {"heldout": heldout, "train": [x for x, r in zip(pool, to_rl) if not r],
               "rl": [x for x, r in zip(pool, to_rl) if r]}
    for subset, found in subsets.items():
        for i, (kind, key, parts) in enumerate(found):
            task_dir = out / subset / f"{kind.replace('_', '-')}-{seed}-{i:04d}"
            if (task_dir / "task.toml").exists():
                continue
            parts.agent_timeout_sec, parts.verifier_timeout_sec = 120.0, 60.0
            meta = {"domain": KINDS[kind][0], "category": KINDS[kind][0], "family": f"starter_{kind}",
                    "difficulty": 1, "task_complexity": "short", "generator": "starter", "split": subset,
                    "seed": seed, "index": i, "instance": "/".join(map(str, key))}
            write_task(parts, task_dir, meta)
    dirs = (out / "train", out / "heldout")
    return dirs + (out / "rl",) if n_rl else dirs
