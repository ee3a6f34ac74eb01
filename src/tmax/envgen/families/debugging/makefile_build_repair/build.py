"""makefile_build_repair: repair a small C project whose Makefile (and header) carry seeded faults.

``numtool/`` is the project as it should be; the task ships it to /app with faults injected and
``solve.sh`` writes it back."""

from __future__ import annotations

import random

from tmax.envgen.bundle import TaskParts
from tmax.envgen.families import family
from tmax.envgen.families.debugging import inject
from tmax.envgen.families.files import FamilyFiles

FILES = FamilyFiles(__file__)
_NUMTOOL = {path: FILES.read(f"numtool/{path}")  # in this order in the solution and the test
            for path in ("Makefile", "include/numtool.h", "src/main.c", "src/parse.c", "src/stats.c", "src/mathx.c")}
# name -> (file, correct snippet, faulty snippet); every one of these breaks `make` or its result
_BUILD_FAULTS = {
    "no_libm": ("Makefile", "LDLIBS = -lm\n", "LDLIBS =\n"),
    "spaces_not_tab": ("Makefile", "\t$(CC) $(CFLAGS) -c $< -o $@", "        $(CC) $(CFLAGS) -c $< -o $@"),
    "no_include_dir": ("Makefile", "CFLAGS = -O2 -Wall -Iinclude", "CFLAGS = -O2 -Wall"),
    "missing_object": ("Makefile", " obj/stats.o obj/mathx.o", " obj/stats.o"),
    "no_obj_dir": ("Makefile", "\t@mkdir -p obj\n", ""),
    "wrong_pattern": ("Makefile", "obj/%.o: src/%.c", "obj/%.o: %.c"),
    "wrong_output": ("Makefile", "-o $@ $(OBJS)", "-o bin/num_tool $(OBJS)"),
    "global_in_header": ("include/numtool.h", "extern int verbose;", "int verbose = 0;"),
}
_CLEAN_FAULT = ("Makefile", "\trm -rf obj bin", "\trm -f obj/*.o")


def _numtool_output(values: list) -> str:
    m = max((abs(v) for v in values), default=0)
    norm = round(sum(v * v for v in values) ** 0.5)
    return f"count {len(values)}\nsum {sum(values)}\nmaxabs {m}\ndigits {len(str(m))}\nnorm {norm}\n"


@family(name="makefile_build_repair", domain="debugging", skill_type="fix_build",
        verifier="exact_text", fixture="text_only", language="c",
        skills=("read_build_errors", "edit_makefile", "link_libraries", "compile_with_gcc"),
        command_complexity="bash_only")
def build(rng: random.Random, difficulty: int) -> TaskParts:
    """Repair a small C project whose Makefile (and header) carry seeded faults: missing -lm,
    spaces instead of a tab, missing include dir or object, missing mkdir, wrong pattern rule,
    wrong output name, a global defined in a header. Knobs: number of faults 1/2/3/5 (each one
    shows up only after the previous is fixed); from 3 on `make clean` is broken too."""
    faults = rng.sample(sorted(_BUILD_FAULTS), {1: 1, 2: 2, 3: 2, 4: 4}[difficulty])
    picked = [_BUILD_FAULTS[f] for f in faults] + ([_CLEAN_FAULT] if difficulty >= 3 else [])
    project = dict(_NUMTOOL)
    for path, good, bad in picked:
        project[path] = inject(project[path], [(good, bad)])
    if "global_in_header" in faults:
        project["src/main.c"] = project["src/main.c"].replace("int verbose = 0;\n\n", "")
    cases = {}
    for name in ["sample.txt", "case1.txt", "case2.txt"][: 1 + min(difficulty, 2)]:
        values = [rng.randint(-99999, 99999) for _ in range(rng.randint(3, 40))]
        cases[name] = (" ".join(map(str, values)) + "\n", _numtool_output(values))
    files = {f"environment/app/{p}": text for p, text in project.items()}
    files["environment/app/sample.txt"] = cases["sample.txt"][0]
    instruction = (
        "/app is a small C project: sources in /app/src, a header in /app/include, and a Makefile. "
        "`/app/bin/numtool FILE` reads whitespace-separated integers from FILE and prints five lines: "
        "`count N`, `sum S`, `maxabs M` (largest absolute value), `digits D` (decimal digits of M) and "
        "`norm R` (square root of the sum of squares, rounded to the nearest integer).\n\n"
        "The build is broken. Fix it so that running `make` in a fresh copy of /app (without obj/ or bin/) "
        "builds bin/numtool, compiling src/*.c to objects under obj/, and `make clean` removes obj/ and bin/. "
        "Do not change what numtool computes or prints; /app/sample.txt is an example input. The grader "
        "copies /app, runs `make`, runs bin/numtool on several input files, then runs `make clean`.")
    original = {p: t for p, t in project.items()}
    test = FILES.fill("test_task.py", original=original, cases=cases)
    solution = FILES.fill("solve.sh", write_files="".join(f"cat > /app/{p} <<'MEOF'\n{t}MEOF\n"
                                                          for p, t in _NUMTOOL.items()))
    return TaskParts(instruction, test, solution, files,
                     knobs={"faults": len(picked), "clean_fault": difficulty >= 3, "inputs": len(cases)})
