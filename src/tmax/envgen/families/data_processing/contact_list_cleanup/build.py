"""contact_list_cleanup: normalise a messy `name | email | phone` list into a clean CSV."""

from __future__ import annotations

import random

from tmax.envgen.bundle import TaskParts
from tmax.envgen.families import family
from tmax.envgen.families.data_processing import FIRST, LAST, csv_text, graded_csv_test
from tmax.envgen.families.files import FamilyFiles

FILES = FamilyFiles(__file__)

_ACCENTED = ["josé", "zoë", "søren", "renée", "andré", "françois", "agnès", "björn", "müller", "núñez"]
_SPECIALFIRST = ["mary-jane", "jean-luc", "anne-marie"]
_SPECIALLAST = ["o'brien", "d'angelo", "smith-jones", "o'neil"]


def _messy_name(rng: random.Random, difficulty: int) -> tuple[str, str]:
    words = [rng.choice(FIRST + (_ACCENTED + _SPECIALFIRST if difficulty >= 3 else [])),
             rng.choice(LAST + (_SPECIALLAST if difficulty >= 3 else []))]
    clean = " ".join(words).title()
    messy = rng.choice([str.upper, str.lower, str.title, lambda s: s])(" ".join(words))
    messy = messy.replace(" ", " " * rng.randint(1, 3))
    return " " * rng.randint(0, 2) + messy + " " * rng.randint(0, 2), clean


def _messy_phone(rng: random.Random, digits: str) -> str:
    a, b, c = digits[:3], digits[3:6], digits[6:]
    return rng.choice([f"({a}) {b}-{c}", f"{a}.{b}.{c}", f"+1 {a} {b} {c}", f"{a}{b}{c}", f"1-{a}-{b}-{c}",
                       f"{a}-{b}-{c}"])


def _contacts(rng: random.Random, difficulty: int) -> tuple[list[str], dict]:
    lines, seen, keep, rejects = [], set(), [], []
    numbers = rng.sample(range(10, 1000), 8 + 6 * difficulty)  # fresh emails never collide by chance
    for i in range(8 + 6 * difficulty):
        if difficulty >= 3 and rng.random() < 0.12:
            lines.append(rng.choice(["", "# exported from the old CRM", "   "]))
            continue
        if difficulty >= 2 and keep and rng.random() < 0.2:  # a duplicate email, in different case
            email = rng.choice(keep)[1]
        else:
            domain = rng.choice(["example.org", "mail.test", "corp.test"])
            email = f"{rng.choice(FIRST)}.{numbers[i]}@{domain}"
        messy, name = _messy_name(rng, difficulty)
        digits = f"{rng.randint(201, 989)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
        phone, valid = _messy_phone(rng, digits), True
        if difficulty >= 4 and rng.random() < 0.15:
            phone, valid = rng.choice([digits[:-2], f"{digits} x12", "n/a"]), False
        if difficulty >= 4 and rng.random() < 0.08:
            email, valid = email.replace("@", "_at_"), False
        shown = rng.choice([email, email.upper(), email.title()])
        lines.append(f"{messy}{' ' * rng.randint(0, 2)}|{' ' * rng.randint(0, 2)}{shown}"
                     f"{' ' * rng.randint(0, 2)}|{' ' * rng.randint(0, 2)}{phone}")
        if not valid:
            rejects.append(len(lines))
        elif email.lower() not in seen:
            seen.add(email.lower())
            keep.append((name, email.lower(), f"+1-{digits[:3]}-{digits[3:6]}-{digits[6:]}"))
    rows = [["name", "email", "phone"]] + [list(r) for r in sorted(keep, key=lambda r: r[1])]
    return lines, {"contacts": csv_text(rows), "rejects": "".join(f"{n}\n" for n in rejects)}


@family(name="contact_list_cleanup", domain="data_processing", skill_type="data_cleaning",
        verifier="exact_text", fixture="text_only", language="python",
        skills=("normalize_phone_numbers", "text_case_normalization", "deduplicate_records", "convert_text_encoding",
                "handle_malformed_rows"),
        command_complexity="bash_code")
def build(rng: random.Random, difficulty: int) -> TaskParts:
    """Normalise a messy `name | email | phone` list into a clean CSV. Knobs: records (14-32),
    duplicate emails (2+), Latin-1 input with accented, hyphenated and apostrophe names plus blank
    and comment lines (3+), invalid records reported by line number (4)."""
    lines, expected = _contacts(rng, difficulty)
    encoding = "latin-1" if difficulty >= 3 else "utf-8"
    rules = ["- name: collapse runs of spaces to one space, trim, lowercase, then uppercase the first letter of each "
             "word" + (" and every letter directly after a hyphen or apostrophe (`o'brien` -> `O'Brien`)"
                       if difficulty >= 3 else ""),
             "- email: trim and lowercase",
             "- phone: keep the digits; drop a leading country code `1` when there are 11 digits; write the 10 "
             "digits as `+1-AAA-BBB-CCCC`"]
    if difficulty >= 2:
        rules.append("- records whose normalised email was already seen earlier in the file are duplicates: keep "
                     "only the first")
    if difficulty >= 3:
        rules.append("- skip blank lines and lines starting with `#`")
    if difficulty >= 4:
        rules.append("- a record is invalid when its phone does not give exactly 10 digits (after dropping a leading "
                     "`1` from 11) or its email does not contain exactly one `@`; leave it out, and write the 1-based "
                     "line numbers of invalid records to /app/rejects.txt, one per line, ascending (only valid "
                     "records take part in duplicate detection)")
    enc_note = (" The file is encoded in ISO-8859-1 (Latin-1); write the output in UTF-8." if difficulty >= 3 else "")
    instruction = (
        "/app/contacts_raw.txt is an export of contacts, one per line: `name | email | phone` with irregular spacing "
        f"and casing.{enc_note}\n\nNormalise each record:\n\n" + "\n".join(rules) + "\n\n"
        "Write /app/contacts.csv with the header `name,email,phone` and one line per kept record, sorted by email "
        "(byte order), no quoting, `\\n` line endings."
    )
    extra = 'g.exact_text("rejects", "/app/rejects.txt", DATA["rejects"])' if difficulty >= 4 else ""
    solution = FILES.fill("solve.sh", encoding=encoding, rejects=difficulty >= 4)
    return TaskParts(instruction,
                     graded_csv_test({"path": "/app/contacts.csv", "expected": expected["contacts"],
                                     "rejects": expected["rejects"]}, extra),
                     solution, {"environment/app/contacts_raw.txt": ("\n".join(lines) + "\n").encode(encoding)},
                     knobs={"records": len(lines), "duplicates": difficulty >= 2, "latin1_names": difficulty >= 3,
                            "rejects": difficulty >= 4})
