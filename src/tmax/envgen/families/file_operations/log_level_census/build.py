"""log_level_census: count log levels per service across a tree of (partly compressed) logs."""

from __future__ import annotations

import gzip
import random

from tmax.envgen.bundle import TaskParts
from tmax.envgen.families import family
from tmax.envgen.families.files import FamilyFiles

FILES = FamilyFiles(__file__)

_LEVELS = ["INFO", "WARN", "ERROR", "DEBUG"]
_SERVICES = ["api", "db", "auth", "cache", "queue", "web", "mail", "search"]


@family(name="log_level_census", domain="file_operations", skill_type="search_and_aggregate",
        verifier="exact_text", fixture="text_only", language="bash",
        skills=("find_files_by_pattern", "grep_regex", "count_and_sort", "read_compressed_files"),
        command_complexity="bash_only")
def build(rng: random.Random, difficulty: int) -> TaskParts:
    """Count log levels per service across a tree of logs. Knobs: number of services, nesting
    depth, gzip-compressed logs (3+), decoy files that must be skipped (4)."""
    services = rng.sample(_SERVICES, 2 + difficulty)
    files: dict[str, str | bytes] = {}
    counts = {s: dict.fromkeys(_LEVELS, 0) for s in services}
    for i, service in enumerate(services):
        depth = "/".join(f"d{rng.randint(0, 9)}" for _ in range(min(difficulty, 3)))
        lines = []
        for _ in range(rng.randint(20, 40) * difficulty):
            level = rng.choice(_LEVELS)
            counts[service][level] += 1
            lines.append(f"2026-01-{rng.randint(1, 28):02d} {level} [{service}] event {rng.randint(1000, 9999)}")
        text = "\n".join(lines) + "\n"
        path = f"environment/app/logs/{depth}/{service}.log"
        if difficulty >= 3 and i % 2 == 1:
            files[path + ".gz"] = gzip.compress(text.encode(), mtime=0)
        else:
            files[path] = text
    if difficulty >= 4:
        files["environment/app/logs/old/api.log.bak"] = "2026-01-01 ERROR [api] stale backup line\n"
    expected = "".join(f"{s} {lvl} {counts[s][lvl]}\n" for s in sorted(services) for lvl in sorted(_LEVELS)
                       if counts[s][lvl])
    gz_note = " Some logs are gzip-compressed (`.log.gz`) and count too." if difficulty >= 3 else ""
    bak_note = " Ignore backup files (`*.bak`)." if difficulty >= 4 else ""
    instruction = (
        "The directory /app/logs holds service logs (`<service>.log`) in nested folders. Each line looks like "
        f"`DATE LEVEL [service] message`.{gz_note}{bak_note}\n\n"
        "Write /app/census.txt with one line `SERVICE LEVEL COUNT` for every service and level that occurs, "
        "sorted by service, then level (plain byte order), single spaces, no header."
    )
    return TaskParts(instruction, FILES.fill("test_task.py", expected=expected), FILES.read("solve.sh"), files,
                     knobs={"services": len(services), "depth": min(difficulty, 3), "gzip": difficulty >= 3,
                            "decoys": difficulty >= 4})
