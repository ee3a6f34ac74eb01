"""Starter kinds whose answer is not in the instruction: it has to be found by running commands.

The first starter kinds (``tmax.envgen.starter``) state every value in the task text, so a
model that copies well has nothing left to explore and RL little to improve. In these the
value lives in the sandbox: a word in one of several files, a file found by its content, a
script that has to be run (and fails when run the obvious way), a number of files to count.
Each is solved in 3-4 commands and the reference solution is a real exploration path: look,
read the value off the output, then act on it, so SFT on the oracle's trajectories teaches
reading tool output rather than the answer. Partial credit as before: the answer file alone
scores half.

The fixtures come from a few fixed *layouts* per kind (``LAYOUTS``), so a split needs only a
few images (one per layout, built once and cached), not one per task. The instruction never
says which layout a task has: the same instruction text has different answers in different
layouts, so the answer cannot be guessed from the text.
"""

from __future__ import annotations

import random

from tmax.envgen.bundle import TaskParts

# the starter pools (tmax.envgen.starter), repeated here so this module imports nothing back
WORDS = ["apple", "river", "stone", "cloud", "tiger", "maple", "ocean", "piano"]
FILES = ["notes.txt", "out.txt", "answer.txt", "result.txt", "data.txt", "log.txt"]
LAYOUTS = 6  # fixture variants per kind

_GRADER = "from tmax_verify import Grader\nimport os\ng = Grader()\n"


def _layout_rng(kind: str, layout: int) -> random.Random:
    return random.Random(f"starter-layout:{kind}:{layout}")


def _answer_test(path: str, expected: str) -> str:
    """Half for the answer file, half for the right value in it."""
    return _GRADER + f"""text = open({path!r}).read() if os.path.isfile({path!r}) else None
g.check("answer file exists", text is not None)
g.check("the right value", text is not None and text.strip() == {expected!r})
g.finish()
"""


def _secret_files(layout: int) -> dict[str, str]:
    """Three files under /app/secret, each holding a different word."""
    rng = _layout_rng("read_secret", layout)
    return dict(zip(rng.sample(FILES, 3), rng.sample(WORDS, 3)))


def read_secret(rng: random.Random) -> tuple[tuple, TaskParts]:
    layout, out = rng.randrange(LAYOUTS), rng.choice(FILES)
    files = _secret_files(layout)
    name = rng.choice(sorted(files))
    word = files[name]
    return ("read_secret", layout, name, out), TaskParts(
        f"The file /app/secret/{name} holds a word. Write that word to /app/{out}.", _answer_test(f"/app/{out}", word),
        f"ls /app/secret\ncat /app/secret/{name}\necho {word} > /app/{out}\ncat /app/{out}\n",
        files={f"environment/app/secret/{n}": f"{w}\n" for n, w in files.items()})


def find_word(rng: random.Random) -> tuple[tuple, TaskParts]:
    layout, out = rng.randrange(LAYOUTS), rng.choice(FILES)
    lrng = _layout_rng("find_word", layout)
    names = lrng.sample(FILES, 4)
    word = lrng.choice(WORDS)
    files = {f"environment/app/secret/{n}": (f"{word}\n" if i == 0 else "") for i, n in enumerate(names)}
    return ("find_word", layout, out), TaskParts(
        f"Exactly one file in /app/secret is not empty. Write the word it holds to /app/{out}.",
        _answer_test(f"/app/{out}", word),
        f"grep -r . /app/secret\necho {word} > /app/{out}\ncat /app/{out}\n", files=files)


def run_tool(rng: random.Random) -> tuple[tuple, TaskParts]:
    """The script is not executable: running it by its path fails, ``bash /app/tool`` works."""
    layout, out = rng.randrange(LAYOUTS), rng.choice(FILES)
    word = WORDS[layout % len(WORDS)]
    head, tail = word[:2], word[2:]
    script = f"#!/bin/bash\nfirst={head}\necho \"${{first}}{tail}\"\n"  # the word is not written out whole
    return ("run_tool", layout, out), TaskParts(
        f"The script /app/tool prints a word. Run it and write that word to /app/{out}.",
        _answer_test(f"/app/{out}", word),
        # a shebang and no `set -e`: the first command fails on purpose, and the next one recovers
        f"#!/bin/bash\n/app/tool\nbash /app/tool\necho {word} > /app/{out}\ncat /app/{out}\n",
        files={"environment/app/tool": script})  # not *.sh: write_files leaves it non-executable


def count_files(rng: random.Random) -> tuple[tuple, TaskParts]:
    layout, out = rng.randrange(LAYOUTS), rng.choice(FILES)
    n = 2 + layout  # 2-7 files
    names = _layout_rng("count_files", layout).sample([f"{w}.txt" for w in WORDS], n)
    return ("count_files", layout, out), TaskParts(
        f"Write the number of files in /app/items to /app/{out}.", _answer_test(f"/app/{out}", str(n)),
        f"ls /app/items\nls /app/items | wc -l\necho {n} > /app/{out}\ncat /app/{out}\n",
        files={f"environment/app/items/{name}": "" for name in names})


EXPLORE_KINDS = {
    "read_secret": ("file_operations", read_secret),
    "find_word": ("file_operations", find_word),
    "run_tool": ("debugging", run_tool),
    "count_files": ("system_administration", count_files),
}
