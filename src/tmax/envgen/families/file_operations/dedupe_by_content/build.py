"""dedupe_by_content: find files with identical content, report the groups and act on them."""

from __future__ import annotations

import hashlib
import random

from tmax.envgen.bundle import TaskParts
from tmax.envgen.families import family
from tmax.envgen.families.files import FamilyFiles

FILES = FamilyFiles(__file__)

_WORDS = ["alpha", "bravo", "cedar", "delta", "ember", "fjord", "garnet", "harbor", "iris", "juniper",
          "kestrel", "lumen", "maple", "nova", "onyx", "pixel", "quartz", "raven", "sierra", "tundra"]
_EXTS = ["txt", "csv", "bin", "dat", "json", "md"]


def _dedupe_tree(rng: random.Random, difficulty: int) -> tuple[dict, list]:
    """Files (rel path -> bytes) under /app/data and the groups of duplicates."""
    dirs = [""] + ["/".join(rng.sample(_WORDS, rng.randint(1, min(difficulty, 3)))) + "/"
                   for _ in range(difficulty + 1)]
    if difficulty >= 3:
        dirs.append(".cache/")
    names: set[str] = set()

    def new_path() -> str:
        while True:
            hidden = "." if difficulty >= 3 and rng.random() < 0.15 else ""
            path = f"{rng.choice(dirs)}{hidden}{rng.choice(_WORDS)}_{rng.randint(100, 999)}.{rng.choice(_EXTS)}"
            if path not in names:
                names.add(path)
                return path

    files: dict[str, bytes] = {}
    groups = []
    for _ in range(2 * difficulty):
        blob = rng.randbytes(rng.randint(64, 3000))
        group = sorted(new_path() for _ in range(rng.randint(2, 1 + difficulty)))
        files.update(dict.fromkeys(group, blob))
        groups.append(group)
    for _ in range(4 * difficulty):
        files[new_path()] = rng.randbytes(rng.randint(64, 3000))
    if difficulty >= 4:
        base = rng.randbytes(2048)  # same size and a long common prefix, different content
        for i in range(3):
            files[new_path()] = base[:-1] + bytes([i])
        files.update({new_path(): b"" for _ in range(3)})
    return files, sorted(groups)


@family(name="dedupe_by_content", domain="file_operations", skill_type="filesystem_cleanup",
        verifier="exact_text", fixture="text_only", language="python",
        skills=("walk_directory_tree", "hash_file_contents", "group_by_key", "hard_links", "delete_files"),
        command_complexity="bash_code")
def build(rng: random.Random, difficulty: int) -> TaskParts:
    """Find files with identical content under /app/data and report the groups; from 2 on also
    act on them. Knobs: file/group count and nesting grow; 2 deletes duplicates; 3 replaces them
    with hard links and adds hidden files; 4 adds empty files to ignore, same-size near-duplicate
    decoys and a reclaimed-bytes total."""
    files, groups = _dedupe_tree(rng, difficulty)
    report = "".join(" ".join(g) + "\n" for g in groups)
    reclaimed = sum(len(files[g[0]]) * (len(g) - 1) for g in groups)
    action = {1: "", 2: ("Then delete every duplicate: in each group keep only the first path and delete the "
                         "other files."),
              3: ("Then replace every duplicate (each path of a group except the first) with a hard link to the "
                  "group's first file, so all paths stay but share one inode.")}[min(difficulty, 3)]
    extra = ""
    if difficulty >= 3:
        extra += " Hidden files and folders (names starting with `.`) count like any other."
    if difficulty >= 4:
        extra += (" Empty (zero-byte) files are never duplicates: leave them out of the report and alone. Also "
                  "write /app/reclaimed.txt holding one integer: the sum over groups of the file size times "
                  "(number of paths in the group - 1).")
    instruction = (
        "The directory /app/data holds files in nested folders; some have byte-identical content under different "
        "names.\n\nWrite /app/duplicates.txt with one line per group of two or more files whose contents are "
        "identical: the paths relative to /app/data (e.g. `a/b/x.txt`), sorted in byte order and separated by "
        "single spaces. Sort the lines by their first path (byte order). Files not in any group are not listed."
        f"{extra}\n\n{action}"
    )
    digests = {p: hashlib.sha256(b).hexdigest() for p, b in files.items()}
    test = FILES.fill("test_task.py", groups=groups, digests=digests, difficulty=difficulty, report=report,
                      reclaimed=reclaimed)
    solution = FILES.fill("solve.sh", difficulty=difficulty)
    return TaskParts(instruction, test, solution, {f"environment/app/data/{p}": b for p, b in files.items()},
                     knobs={"groups": len(groups), "files": len(files),
                            "action": ["report", "delete", "hardlink", "hardlink"][difficulty - 1],
                            "hidden": difficulty >= 3, "empty_and_decoys": difficulty >= 4})
