"""upload_path_validator: write a program that accepts safe upload paths and rejects hostile ones.

``validator.py`` is the reference validator: it labels the corpus here (with the constants D,
MAXLEN, MAXDEPTH and EXTS put in front of it) and is the oracle's program in ``solve.sh``."""

from __future__ import annotations

import random

from tmax.envgen.bundle import TaskParts
from tmax.envgen.families import family
from tmax.envgen.families.files import FamilyFiles

FILES = FamilyFiles(__file__)


def _validator(params: str):
    scope: dict = {}
    exec(params + "\n" + FILES.read("validator.py"), scope)  # our own constant source, not input
    return scope["accepts"]


def _path_candidates(rng: random.Random, exts: list[str], maxlen: int, maxdepth: int) -> list[bytes]:
    words = ["docs", "img", "report", "2024", "q3", "final_v2", "data-set", "a..b", "x.y", "notes", "...", "com0"]
    clean = ["/".join(rng.choice(words) for _ in range(rng.randint(0, maxdepth - 1)))
             + f"/{rng.choice(words)}.{rng.choice(exts)}" for _ in range(120)]
    clean = [c.lstrip("/") for c in clean]
    attacks = ["../", "/", "./", "a//", "..\\..\\", "\x00", "\n", " ", "\u2024\u2024/", "\uff0e\uff0e/", "%2e%2e/",
               "%2E%2e%2F", "..%2f", "%252e%252e/", "%zz", "%", "a%2", "%41b/", "%2fetc/", "%00", ".env/", ".git/",
               "-rf/", "tmp./", "CON/", "nul.", "Lpt3.log/", "aux/", "com1.txt/", "x\\", "~/", "%2E/"]
    out = [c.encode() for c in clean]
    for c in clean:
        a = rng.choice(attacks)
        cut = rng.choice([0, len(c) // 2, len(c)])
        out.append((c[:cut] + a + c[cut:]).encode())
        out.append((c + rng.choice(["/", "/..", ".sh", ".", "/.", ".exe", ".PDF", ".Txt", "%2f..", "\t"])).encode())
    out += [b"\xff\xfe.txt", b"\xc0\xae\xc0\xae/x.txt", b"", ("a/" * maxdepth + "b.txt").encode(),
            ("k" * (maxlen - 4) + ".txt").encode(), ("k" * (maxlen - 3) + ".txt").encode()]
    return list(dict.fromkeys(out))


@family(name="upload_path_validator", domain="security", skill_type="input_validation",
        verifier="adversarial_corpus", fixture="text_only", language="python",
        skills=("write_validator_program", "path_traversal_defense", "percent_decoding", "read_stdin_bytes"),
        command_complexity="bash_code")
def build(rng: random.Random, difficulty: int) -> TaskParts:
    """Write /app/check_path, which accepts safe relative upload paths and rejects malicious
    ones; graded on a labelled corpus. Knobs (cumulative): 1 traversal/empty/length rules,
    2 a character allowlist and a depth limit, 3 percent-decoding before the checks (malformed
    and double encoding rejected), 4 hidden/dash/dot-ended components, Windows device names and
    an extension allowlist. The corpus grows with the difficulty."""
    exts = sorted(rng.sample(["txt", "csv", "pdf", "png", "jpg", "json", "md", "gz"], 4))
    maxlen, maxdepth = rng.choice([64, 80, 100]), rng.randint(3, 5)
    params = f"D, MAXLEN, MAXDEPTH, EXTS = {difficulty}, {maxlen}, {maxdepth}, {exts!r}"
    accepts = _validator(params)
    pool = _path_candidates(rng, exts, maxlen, maxdepth)
    rng.shuffle(pool)
    n = 25 + 15 * difficulty
    clean = [x for x in pool if accepts(x)][:n]
    malicious = [x for x in pool if not accepts(x)][:n]
    rules = [f"it is 1 to {maxlen} bytes long", "it does not start or end with `/`",
             "splitting it on `/` gives no empty component (`a//b`) and no component that is exactly `.` or `..`"]
    if difficulty >= 2:
        rules += ["it consists only of ASCII letters, digits, `.`, `_`, `-` and `/` (no spaces, backslashes, "
                  "control or non-ASCII characters)", f"it has at most {maxdepth} components"]
    if difficulty >= 4:
        rules += ["no component starts with `.` or `-`, and none ends with `.`",
                  "no component's part before its first `.` is, case-insensitively, a Windows device name: CON, PRN, "
                  "AUX, NUL, COM1-COM9, LPT1-LPT9",
                  f"the last component has an extension (the text after its last `.`) that is, case-insensitively, "
                  f"one of: {', '.join(exts)}"]
    decode = ("First percent-decode the input once: every `%XX` (two hex digits, either case) becomes the byte XX. "
              "Reject the input if it has a `%` not followed by two hex digits, if the decoded bytes are not valid "
              "UTF-8, or if the decoded path still contains `%`. The rules below apply to the decoded path.\n\n"
              if difficulty >= 3 else "")
    instruction = (
        "Uploads name their destination with a relative path, and attackers send hostile ones. Write an executable "
        "program /app/check_path (any language available here; a script needs a shebang line) that reads one "
        "candidate path as raw bytes from standard input (all of stdin is the path; there is no trailing newline "
        "to strip) and exits with status 0 to accept it or 1 to reject it. It must not need any arguments.\n\n"
        f"{decode}Reject input that is not valid UTF-8. Accept the path only if all of these hold:\n"
        + "".join(f"- {r}\n" for r in rules)
    )
    solution = FILES.fill("solve.sh", params=params, validator=FILES.read("validator.py"))
    return TaskParts(instruction, FILES.fill("test_task.py", clean=clean, malicious=malicious), solution,
                     knobs={"rules": len(rules), "percent_decoding": difficulty >= 3,
                            "corpus": len(clean) + len(malicious), "maxlen": maxlen, "maxdepth": maxdepth})
