"""c_textstat_fuzz_repair: fix seeded bugs in a C line-statistics tool, graded by fuzzing it.

``textstat.c`` is the correct tool (the oracle's answer); the task ships it with bugs injected.
``test_task.py`` compares the fixed binary with a Python oracle on random lines."""

from __future__ import annotations

import random

from tmax.envgen.bundle import TaskParts
from tmax.envgen.families import family
from tmax.envgen.families.debugging import inject
from tmax.envgen.families.files import FamilyFiles

FILES = FamilyFiles(__file__)
_TEXTSTAT = FILES.read("textstat.c")

# column -> variants of (correct snippet, faulty snippet, a line on which they differ)
_TEXTSTAT_BUGS = {
    0: [("if (is_sep(s[i])) inword = 0;", "if (s[i] == ' ') inword = 0;", "ab\tcd ef"),
        ("int n = 0, inword = 0;", "int n = 0, inword = 1;", "hello world")],
    1: [("    if (cur > best) best = cur;\n    return best;", "    return best;", "a bcd"),
        ("        else cur++;", "        else if (isalpha((unsigned char)s[i])) cur++;", "ab 12345")],
    2: [("char c = (char)tolower((unsigned char)s[i]);", "char c = s[i];", "AEIOU xyz"),
        ("c == 'i' || c == 'o' || c == 'u') n++;", "c == 'i' || c == 'o') n++;", "uuu tutu")],
    3: [("if (s[i] >= '0' && s[i] <= '9')", "if (s[i] > '0' && s[i] < '9')", "a9b9 c9"),
        ("sum += s[i] - '0';", "sum += s[i];", "x1 y2")],
    4: [("if (buf[i] != buf[n - 1 - i]) return 0;", "if (buf[i + 1] != buf[n - 2 - i]) return 0;", "abbc"),
        ("buf[n++] = (char)tolower((unsigned char)s[i]);", "buf[n++] = s[i];", "Abba"),
        ("if (isalnum((unsigned char)s[i]))", "if (s[i] != ' ')", "ab, ba!")],
    5: [("uint32_t h = 0;", "unsigned short h = 0;", "checksum me"),
        ("h = h * 31u + (unsigned char)s[i];", "h = (h + (unsigned char)s[i]) * 31u;", "ab")],
}
_LONG_LINE_BUG = ("#define MAXLINE 256", "#define MAXLINE 64")


@family(name="c_textstat_fuzz_repair", domain="debugging", skill_type="fix_logic_bugs",
        verifier="fuzz_equivalence", fixture="text_only", language="c",
        skills=("read_c_source", "compile_with_gcc", "reproduce_with_test_input", "fix_off_by_one"))
def build(rng: random.Random, difficulty: int) -> TaskParts:
    """Fix a C line-statistics tool whose functions carry seeded bugs; graded by running the
    fixed binary on random inputs against a Python oracle, plus one check per bug. Knobs: number
    of injected bugs 1/2/3/5; from 3 on one is a too-small line buffer that splits long lines."""
    columns = rng.sample(sorted(_TEXTSTAT_BUGS), {1: 1, 2: 2, 3: 2, 4: 4}[difficulty])
    picks = [rng.choice(_TEXTSTAT_BUGS[c]) for c in columns]
    bugs = [(good, bad) for good, bad, _ in picks]
    checks = [(trigger + "\n", c) for (_, _, trigger), c in zip(picks, columns)]
    if difficulty >= 3:
        bugs.append(_LONG_LINE_BUG)
        clean = min(set(range(6)) - set(columns))
        checks.append(("words " * 20 + "\n" + "x" * 200 + "\n", clean))
    triggers = [text.rstrip("\n") for text, _ in checks]
    broken = inject(_TEXTSTAT, bugs)
    instruction = (
        "/app/src/textstat.c is a small C tool that reads lines from standard input and prints, for each line, "
        "one line `WORDS LONGEST VOWELS DIGITSUM PALINDROME CHECKSUM` (single spaces):\n\n"
        "- WORDS: number of maximal runs of characters that are neither a space nor a tab;\n"
        "- LONGEST: length of the longest such run (0 when there is none);\n"
        "- VOWELS: number of the letters a, e, i, o, u in either case;\n"
        "- DIGITSUM: the sum of the values of all decimal digits;\n"
        "- PALINDROME: 1 when the letters and digits of the line, lower-cased, read the same backwards "
        "(also for a line without any), else 0;\n"
        "- CHECKSUM: h = 0, then h = (h * 31 + c) mod 2^32 for every byte c of the line (without the newline).\n\n"
        "Input lines are ASCII (printable characters and tabs), at most 250 characters long. The program does "
        "not behave as specified: find and fix its bugs by editing /app/src/textstat.c in place. It is graded "
        "by compiling it with `gcc -O2 -o textstat /app/src/textstat.c` and comparing its output with the "
        "specification on many random inputs.")
    test = FILES.fill("test_task.py", original=broken, seed=rng.getrandbits(32), triggers=triggers, checks=checks)
    solution = FILES.fill("solve.sh", textstat_c=_TEXTSTAT)
    return TaskParts(instruction, test, solution, {"environment/app/src/textstat.c": broken},
                     knobs={"bugs": len(bugs), "long_line_bug": difficulty >= 3})
