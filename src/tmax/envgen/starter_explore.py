"""Starter kinds whose answer is not in the instruction: it has to be found by running commands.

The first starter kinds (``tmax.envgen.starter``) state every value in the task text, so a
model that copies well has nothing left to explore and RL little to improve. In these the
value lives in the sandbox: a word in one of several files, a file found by its content, a
script that has to be run (and fails when run the obvious way), a number of files to count.
Each is solved in 3-4 commands and the reference solution is a real exploration path: look,
read the value off the output, then act on it, so SFT on the oracle's trajectories teaches
reading tool output rather than the answer. The reward is all or nothing: the answer file
with the right value (a file with a guessed value earns nothing, so guessing never pays).

*Known-answer solutions.* A task author knows the fixture, and real reference solutions often
just write the answer they know. With ``known_share`` > 0 that share of the instances gets such
a solution: ``ls /app`` (which reads the same in every layout), then the answer straight away.
Both kinds of solution score 1, so the oracle stage cannot tell them apart; but a student that
imitates them sees, at the same point, an answer copied from the output in one trajectory and
an answer from nowhere in the next, and learns to skip the looking and guess that often.
Outcome rewards can unlearn the guess (it is right about 1 time in 6); imitation cannot. The tiny recipe uses this to give
RL room (docs/tiny-recipe).

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
# Each layout holds three of the things a task names (a folder or a script), so a kind has
# 6 layouts x 3 x 6 answer files = 108 instances from six images.
BOXES = ["secret", "box", "store"]
TOOLS = ["tool", "helper", "runner"]
FOLDERS = ["items", "logs", "parts"]

_GRADER = "from tmax_verify import Grader\nimport os\ng = Grader()\n"


def _layout_rng(kind: str, layout: int) -> random.Random:
    return random.Random(f"starter-layout:{kind}:{layout}")


def _answer_test(path: str, expected: str) -> str:
    """All or nothing: the answer file holding the right value."""
    return _GRADER + f"""text = open({path!r}).read() if os.path.isfile({path!r}) else None
g.check("the right value", text is not None and text.strip() == {expected!r},
        detail="" if text is not None else "no answer file")
g.finish()
"""


def _solution(look: list[str], act: list[str], known: bool) -> str:
    """The reference solution, one command per line: the looking commands, then ``act``. A
    known-answer solution replaces the looking with ``ls /app``, which shows the same in every
    layout: nothing in its trajectory tells the student where the answer came from."""
    return "\n".join([*(["ls /app"] if known else look), *act]) + "\n"


def _act(answer: str, out: str) -> list[str]:
    return [f"echo {answer} > /app/{out}", f"cat /app/{out}"]


def _known(rng: random.Random, share: float) -> bool:
    return rng.random() < share  # always drawn, so the share does not change which instances come out


def _secret_files(layout: int) -> dict[str, str]:
    """Three files under /app/secret, each holding a different word."""
    rng = _layout_rng("read_secret", layout)
    return dict(zip(rng.sample(FILES, 3), rng.sample(WORDS, 3)))


def read_secret(rng: random.Random, known_share: float = 0.0) -> tuple[tuple, TaskParts]:
    layout, out, known = rng.randrange(LAYOUTS), rng.choice(FILES), _known(rng, known_share)
    files = _secret_files(layout)
    name = rng.choice(sorted(files))
    word = files[name]
    return ("read_secret", layout, name, out), TaskParts(
        f"The file /app/secret/{name} holds a word. Write that word to /app/{out}.", _answer_test(f"/app/{out}", word),
        _solution(["ls /app/secret", f"cat /app/secret/{name}"], _act(word, out), known),
        files={f"environment/app/secret/{n}": f"{w}\n" for n, w in files.items()})


def find_word(rng: random.Random, known_share: float = 0.0) -> tuple[tuple, TaskParts]:
    """Each layout has three folders of four files, one of them not empty; the task names a folder."""
    layout, out, known = rng.randrange(LAYOUTS), rng.choice(FILES), _known(rng, known_share)
    place = rng.choice(BOXES)
    lrng = _layout_rng("find_word", layout)
    files, words = {}, lrng.sample(WORDS, len(BOXES))
    for box, word in zip(BOXES, words):
        for i, name in enumerate(lrng.sample(FILES, 4)):
            files[f"environment/app/{box}/{name}"] = f"{word}\n" if i == 0 else ""
    word = words[BOXES.index(place)]
    return ("find_word", layout, place, out), TaskParts(
        f"Exactly one file in /app/{place} is not empty. Write the word it holds to /app/{out}.",
        _answer_test(f"/app/{out}", word),
        _solution([f"ls /app/{place}", f"grep -r . /app/{place}"], _act(word, out), known), files=files)


def run_tool(rng: random.Random, known_share: float = 0.0) -> tuple[tuple, TaskParts]:
    """Each layout has three scripts, none executable: running one by its path fails, ``bash
    /app/<script>`` works. The task names a script."""
    layout, out, known = rng.randrange(LAYOUTS), rng.choice(FILES), _known(rng, known_share)
    tool = rng.choice(TOOLS)
    words = _layout_rng("run_tool", layout).sample(WORDS, len(TOOLS))
    files = {}
    for name, w in zip(TOOLS, words):  # the word is not written out whole in the script
        files[f"environment/app/{name}"] = f"#!/bin/bash\nfirst={w[:2]}\necho \"${{first}}{w[2:]}\"\n"
    word = words[TOOLS.index(tool)]
    return ("run_tool", layout, tool, out), TaskParts(
        f"The script /app/{tool} prints a word. Run it and write that word to /app/{out}.",
        _answer_test(f"/app/{out}", word),
        # a shebang and no `set -e`: the first command fails on purpose, and the next one recovers
        "#!/bin/bash\n" + _solution([f"/app/{tool}", f"bash /app/{tool}"], _act(word, out), known),
        files=files)  # not *.sh: write_files leaves them non-executable


def count_files(rng: random.Random, known_share: float = 0.0) -> tuple[tuple, TaskParts]:
    """Each layout has three folders of 2-7 empty files; the task names a folder."""
    layout, out, known = rng.randrange(LAYOUTS), rng.choice(FILES), _known(rng, known_share)
    place = rng.choice(FOLDERS)
    lrng = _layout_rng("count_files", layout)
    counts = lrng.sample(range(2, 8), len(FOLDERS))
    files = {f"environment/app/{folder}/{name}": "" for folder, n in zip(FOLDERS, counts)
             for name in lrng.sample([f"{w}.txt" for w in WORDS], n)}
    n = counts[FOLDERS.index(place)]
    return ("count_files", layout, place, out), TaskParts(
        f"Write the number of files in /app/{place} to /app/{out}.", _answer_test(f"/app/{out}", str(n)),
        _solution([f"ls /app/{place}", f"ls /app/{place} | wc -l"], _act(str(n), out), known), files=files)


EXPLORE_KINDS = {
    "read_secret": ("file_operations", read_secret),
    "find_word": ("file_operations", find_word),
    "run_tool": ("debugging", run_tool),
    "count_files": ("system_administration", count_files),
}
