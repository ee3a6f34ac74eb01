"""bulk_rename_by_date: move camera and scanner files to date-based names, resolving collisions."""

from __future__ import annotations

import datetime
import random
import re

from tmax.envgen.bundle import TaskParts
from tmax.envgen.families import family
from tmax.envgen.families.files import FamilyFiles

FILES = FamilyFiles(__file__)

# name pattern (as the instruction shows it), how it is written from a datetime, the extension,
# and the regex (named groups y mo d and optionally h mi s; the extension is case-insensitive)
_RENAME_FORMATS = [
    ("`IMG_YYYYMMDD_HHMMSS.jpg`", "IMG_{t:%Y%m%d_%H%M%S}.{ext}", "jpg",
     r"IMG_(?P<y>\d{4})(?P<mo>\d\d)(?P<d>\d\d)_(?P<h>\d\d)(?P<mi>\d\d)(?P<s>\d\d)\.(?P<ext>(?i:jpg))"),
    ("`Screenshot YYYY-MM-DD at HH.MM.SS.png`", "Screenshot {t:%Y-%m-%d at %H.%M.%S}.{ext}", "png",
     r"Screenshot (?P<y>\d{4})-(?P<mo>\d\d)-(?P<d>\d\d) at (?P<h>\d\d)\.(?P<mi>\d\d)\.(?P<s>\d\d)\.(?P<ext>(?i:png))"),
    ("`scan_DD-MM-YYYY_HHhMM.pdf` (the seconds are 00)", "scan_{t:%d-%m-%Y_%Hh%M}.{ext}", "pdf",
     r"scan_(?P<d>\d\d)-(?P<mo>\d\d)-(?P<y>\d{4})_(?P<h>\d\d)h(?P<mi>\d\d)\.(?P<ext>(?i:pdf))"),
    ("`VID-YYYYMMDD-WANNNN.mp4` (NNNN is any 4 digits; the time is 00:00:00)", "VID-{t:%Y%m%d}-WA{n:04d}.{ext}",
     "mp4", r"VID-(?P<y>\d{4})(?P<mo>\d\d)(?P<d>\d\d)-WA\d{4}\.(?P<ext>(?i:mp4))"),
]


def _rename_target(name: str, formats: list[int]) -> str | None:
    """The new base name (without collision suffix) for a file name, or None."""
    for i in formats:
        m = re.fullmatch(_RENAME_FORMATS[i][3], name)
        if m:
            f = {"h": 0, "mi": 0, "s": 0} | {k: int(v) for k, v in m.groupdict().items() if k != "ext"}
            try:
                t = datetime.datetime(f["y"], f["mo"], f["d"], f["h"], f["mi"], f["s"])
            except ValueError:
                return None
            return f"{t:%Y-%m-%d_%H%M%S}.{m['ext'].lower()}"
    return None


def _rename_inbox(rng: random.Random, difficulty: int, formats: list[int]) -> dict[str, str]:
    """rel path under /app/inbox -> content token."""
    subdirs = [""] if difficulty < 3 else ["", "phone/", "phone/dcim/", "old scans/", "misc/"]
    start = datetime.datetime(2021 + rng.randint(0, 3), rng.randint(1, 12), rng.randint(1, 28))
    shots = [(start + datetime.timedelta(minutes=rng.randint(0, 60 * 24 * 400), seconds=rng.randint(0, 59)),
              rng.choice(formats)) for _ in range(4 + 4 * difficulty)]
    if difficulty >= 3:
        shots += rng.sample(shots, 3)  # the same moment again (in another folder): a collision
    inbox = {}
    for t, i in shots:
        ext = _RENAME_FORMATS[i][2]
        ext = ext.upper() if difficulty >= 2 and rng.random() < 0.3 else ext
        name = _RENAME_FORMATS[i][1].format(t=t, ext=ext, n=rng.randint(0, 9999))
        free = [d + name for d in rng.sample(subdirs, len(subdirs)) if d + name not in inbox]
        if free:
            inbox[free[0]] = f"{rng.getrandbits(64):016x}"
    bad = ["notes.txt", "IMG_2023.jpg", "Screenshot 2022-01-05.png", "img_20220105_101010.jpg",
           "VID-2022-WA0001.mp4"] if difficulty >= 3 else []
    bad += ["IMG_20231345_101010.jpg", "Screenshot 2022-02-30 at 10.11.12.png", "scan_31-04-2022_10h15.pdf",
            "IMG_20230101_246000.jpg"] if difficulty >= 4 else []
    for name in bad:
        inbox[rng.choice(subdirs) + name] = f"{rng.getrandbits(64):016x}"
    return inbox


def _rename_plan(inbox: dict[str, str], formats: list[int], nested: bool) -> dict[str, str]:
    """old rel path (under /app/inbox) -> new rel path (under /app/sorted), collisions suffixed."""
    plan, taken = {}, {}
    for old in sorted(inbox):
        base = _rename_target(old.rsplit("/", 1)[-1], formats)
        if base is None:
            continue
        if nested:
            base = f"{base[:4]}/{base[5:7]}/{base}"
        stem, ext = base.rsplit(".", 1)
        taken[base] = taken.get(base, 0) + 1
        plan[old] = base if taken[base] == 1 else f"{stem}_{taken[base]}.{ext}"
    return plan


@family(name="bulk_rename_by_date", domain="file_operations", skill_type="bulk_rename",
        verifier="exact_text", fixture="text_only", language="python",
        skills=("regex_capture_groups", "parse_dates", "move_files", "resolve_name_collisions"),
        command_complexity="bash_code")
def build(rng: random.Random, difficulty: int) -> TaskParts:
    """Move camera/scanner files from /app/inbox to /app/sorted under a date-based name. Knobs:
    number of name formats (1-4) and files; 2+ year/month folders and upper-case extensions;
    3+ nested inbox folders, non-matching decoys to leave alone and name collisions; 4 adds
    invalid calendar dates and a rename log."""
    formats = sorted(rng.sample(range(len(_RENAME_FORMATS)), difficulty))
    inbox = _rename_inbox(rng, difficulty, formats)
    plan = _rename_plan(inbox, formats, nested=difficulty >= 2)
    where = "/app/sorted/YYYY/MM/YYYY-MM-DD_HHMMSS.ext" if difficulty >= 2 else "/app/sorted/YYYY-MM-DD_HHMMSS.ext"
    pats = "\n".join(f"- {_RENAME_FORMATS[i][0]}" for i in formats)
    instruction = (
        f"/app/inbox{' and its subfolders (any depth)' if difficulty >= 3 else ''} holds photos and scans. Move every "
        "file whose whole name matches one of these patterns (YYYY, MM, DD, HH, MM, SS stand for the digits of "
        "the year, month, day, hour, minute and second: MM is the month in a date and the minute in a time; the "
        f"extension matches case-insensitively, the rest case-sensitively):\n{pats}\n\n"
        f"to `{where}`, built from the date and time in its name; `ext` is the original extension in lower case. "
        "A file whose name matches no pattern, or whose digits are not a real calendar date and time (e.g. month 13, "
        "hour 24), stays where it is, unchanged. Keep file contents unchanged. When several files get the same "
        "new name, take them in byte order of their path relative to /app/inbox: the first gets the plain name, "
        "the next gets `_2` before the extension (`..._HHMMSS_2.ext`), then `_3`, and so on."
    )
    log = "".join(f"inbox/{old}\tsorted/{new}\n" for old, new in sorted(plan.items()))
    if difficulty >= 4:
        instruction += ("\n\nAlso write /app/rename_log.tsv: one line `OLD<TAB>NEW` per moved file, both paths "
                        "relative to /app (e.g. `inbox/x/IMG_....jpg` and `sorted/2023/05/....jpg`), sorted by OLD "
                        "in byte order.")
    keep = {old: tok for old, tok in inbox.items() if old not in plan}
    test = FILES.fill("test_task.py", inbox=inbox, plan=plan, keep=keep, difficulty=difficulty, log=log)
    solution = FILES.fill("solve.sh", formats=[_RENAME_FORMATS[i][3] for i in formats], nested=difficulty >= 2,
                          log=difficulty >= 4)
    files = {f"environment/app/inbox/{p}": tok for p, tok in inbox.items()}
    return TaskParts(instruction, test, solution, files,
                     knobs={"formats": len(formats), "files": len(inbox), "nested": difficulty >= 2,
                            "decoys_and_collisions": difficulty >= 3, "invalid_dates_and_log": difficulty >= 4})
