"""log_rotation_script: write a logrotate-like bash script, graded by running it on a scratch dir.

``_rotate`` here is the reference for one run; ``solve.sh`` writes the same rotation in bash."""

from __future__ import annotations

import gzip
import random

from tmax.envgen.bundle import TaskParts
from tmax.envgen.families import family
from tmax.envgen.families.files import FamilyFiles

FILES = FamilyFiles(__file__)


def _rotate(state: dict, keep: int, compress: str, min_size: int) -> None:
    """What one run of a correct rotate.sh does to ``state`` (name -> [text, gzipped, mode])."""
    for base in sorted(n for n in state if n.endswith(".log") and "/" not in n):
        text, _, mode = state[base]
        if len(text.encode()) < min_size:
            continue
        name = lambda n, gz: f"{base}.{n}" + (".gz" if gz else "")  # noqa: E731
        state.pop(name(keep, False), None)
        state.pop(name(keep, True), None)
        for n in range(keep - 1, 0, -1):
            for gz in (True, False):
                if name(n, gz) in state:
                    old, _, old_mode = state.pop(name(n, gz))
                    state[name(n + 1, gz or compress == "delay")] = [old, gz or compress == "delay", old_mode]
        state[name(1, compress == "all")] = [text, compress == "all", mode]
        state[base] = ["", False, mode]


def _log_lines(rng: random.Random, count: int) -> str:
    return "".join(f"2026-03-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d} "
                   f"{rng.choice(['INFO', 'WARN', 'ERROR'])} {rng.choice(['started', 'retry', 'done', 'timeout'])} "
                   f"id={rng.randint(100, 999)}\n" for _ in range(count))


def _rotation_scenario(rng: random.Random, difficulty: int, keep: int, compress: str, min_size: int):
    logs = rng.sample(["app", "worker", "access", "error", "audit", "jobs"], 1 + difficulty)
    state = {}
    for i, name in enumerate(logs):
        lines = 0 if difficulty >= 2 and i == 1 else 1 if difficulty >= 3 and i == 2 else rng.randint(4, 8)
        state[f"{name}.log"] = [_log_lines(rng, lines), False, rng.choice([0o640, 0o600]) if difficulty >= 4 else 0o644]
    if difficulty >= 3:  # earlier rotations of the first log
        for n in range(1, keep):
            gz = compress == "all" or n > 1
            state[f"{logs[0]}.log.{n}" + (".gz" if gz else "")] = [_log_lines(rng, 2), gz, 0o644]
    if difficulty >= 4:
        state.update({"archive/old.log": [_log_lines(rng, 3), False, 0o644],
                      "notes.txt": ["rotation notes\n", False, 0o644],
                      f"{logs[0]}.log.bak": [_log_lines(rng, 2), False, 0o644]})
    initial = {k: list(v) for k, v in state.items()}
    rounds = []
    for r in range(keep + 1):
        appends = {} if r == 0 else {f"{n}.log": _log_lines(rng, 1 if i == 2 else rng.randint(3, 6))
                                     for i, n in enumerate(logs) if (i != 1 or difficulty == 1) and rng.random() < 0.8}
        for name, text in appends.items():
            state[name][0] += text
        rounds.append(appends)
        _rotate(state, keep, compress, min_size)
    return initial, rounds, state


@family(name="log_rotation_script", domain="system_administration", skill_type="monitoring_and_logs",
        verifier="exact_text", fixture="text_only", language="bash",
        skills=("log_rotation", "bash_scripting", "gzip_compression", "file_permissions"),
        command_complexity="bash_code")
def build(rng: random.Random, difficulty: int) -> TaskParts:
    """Write a logrotate-like bash script, graded by running it several times on a scratch
    directory. Knobs: logs (2-5), copies kept and runs, skipping empty logs and compression (2+),
    a minimum size and existing rotations (3+), delayed compression, kept permission bits and
    decoy files (4)."""
    keep = [2, rng.choice([2, 3]), 3, rng.choice([3, 4])][difficulty - 1]
    compress = ["none", "all", "all", "delay"][difficulty - 1]
    min_size = [0, 1, rng.randrange(80, 160, 10), rng.randrange(80, 160, 10)][difficulty - 1]
    initial, rounds, expected = _rotation_scenario(rng, difficulty, keep, compress, min_size)
    skip = {1: "", 2: " that are not empty"}.get(difficulty, f" that are at least {min_size} bytes long")
    step2 = {"none": "", "all": "",
             "delay": "; when an uncompressed `NAME.log.1` becomes number 2, gzip-compress it to `NAME.log.2.gz`"}
    step3 = " and gzip-compress it to `NAME.log.1.gz`" if compress == "all" else ""
    mode = " with the same permission bits as the old one" if difficulty >= 4 else ""
    result = {"none": "", "all": ", all gzip-compressed (`NAME.log.n.gz`)",
              "delay": ": `NAME.log.1` uncompressed and the older ones gzip-compressed (`NAME.log.n.gz`)"}
    instruction = (
        f"Write a bash script /app/rotate.sh that rotates logs, run as `bash /app/rotate.sh DIR`. It rotates the "
        f"regular files directly in DIR whose names end in `.log`{skip}; everything else in DIR (other files, "
        f"subdirectories and their contents) stays untouched. With K = {keep}, rotating `NAME.log` means:\n\n"
        "1. Delete `NAME.log.K` or `NAME.log.K.gz` if present.\n"
        "2. For n = K-1 down to 1, rename `NAME.log.n` to `NAME.log.<n+1>` (and `NAME.log.n.gz` to "
        f"`NAME.log.<n+1>.gz`){step2[compress]}.\n"
        f"3. Rename `NAME.log` to `NAME.log.1`{step3}, then create a new empty `NAME.log`{mode}.\n\n"
        f"So at most {keep} rotated copies of each log are kept{result[compress]}. The script must exit with status "
        "0. /app/sample-logs holds example files to try it on. It is checked by running it several times on a fresh "
        "directory, appending lines to logs between runs, and comparing the resulting file names and "
        "(decompressed) contents" + (" and the new logs' permission bits." if difficulty >= 4 else ".")
    )
    files = {f"environment/app/sample-logs/{name}": gzip.compress(text.encode(), mtime=0) if gz else text
             for name, (text, gz, _) in initial.items()}
    data = {"initial": initial, "rounds": rounds, "expected": expected, "check_modes": difficulty >= 4}
    solution = FILES.fill("solve.sh", keep=keep, min_size=min_size, compress=compress)
    return TaskParts(instruction, FILES.fill("test_task.py", data=data), solution, files,
                     knobs={"logs": 1 + difficulty, "keep": keep, "runs": len(rounds), "compress": compress,
                            "min_size": min_size, "modes_and_decoys": difficulty >= 4})
