"""The programs the families ship are well-formed once their templates are filled: for one task per
family and difficulty, every shell script passes `bash -n`, every Python program compiles and
every C source passes `gcc -fsyntax-only` -- files of the task dir (solution/, tests/, the
fixtures under environment/) and the programs embedded in scripts as quoted heredocs."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.envgen.familycheck import build
from tmax.envgen.families import load_all
from tmax.envgen.families.files import FamilyFiles

NAMES = sorted(load_all())
_HEREDOC = re.compile(r"<<-?'(\w+)'")


def _kind(name: str, text: str) -> str | None:
    """bash, python, c or None (data) for a file name and its text."""
    first = text.split("\n", 1)[0]
    if name.endswith(".sh") or (first.startswith("#!") and first.endswith(("bash", "/sh"))):
        return "bash"
    if name.endswith(".py") or (first.startswith("#!") and "python" in first):
        return "python"
    return "c" if name.endswith((".c", ".h")) else None


def _heredocs(script: str):
    """(the command line, the body) of every quoted heredoc at the top level of ``script``."""
    lines = script.split("\n")
    i = 0
    while i < len(lines):
        found = _HEREDOC.search(lines[i])
        if found:
            end = lines.index(found[1], i + 1)
            yield lines[i], "\n".join(lines[i + 1:end]) + "\n"
            i = end
        i += 1


def _target(command: str) -> str:
    """The file a heredoc's command writes to (`cat > PATH <<'EOF'`), or ''."""
    found = re.search(r">>? *(\S+)", command)
    return found[1] if found else ""


def programs(task_dir: Path) -> list[tuple[str, str, str, str]]:
    """(where, kind, source, target) of every program in a task dir; target is the path an
    embedded program is written to ('' for the task's own files)."""
    found = []
    for path in sorted(p for p in task_dir.rglob("*") if p.is_file()):
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        kind = _kind(path.name, text)
        if kind:
            found.append((str(path.relative_to(task_dir)), kind, text, ""))
    stack = [(where, text) for where, kind, text, _ in found if kind == "bash"]
    while stack:
        outer, script = stack.pop()
        for n, (command, body) in enumerate(_heredocs(script)):
            inner = "python" if re.search(r"\bpython3? +-( |$)", command) else _kind(_target(command), body)
            if inner:
                found.append((f"{outer} heredoc {n + 1} ({command.strip()})", inner, body, _target(command)))
            if inner == "bash":
                stack.append((found[-1][0], body))
    return found


def problems(task_dir: Path) -> list[str]:
    """What is wrong with the programs of a task dir: one line per program that does not parse.
    C sources see the task's headers; embedded ones see the headers their script writes first."""
    found, out = programs(task_dir), []
    with tempfile.TemporaryDirectory() as scratch:
        for _, kind, source, target in found:
            if target.endswith(".h"):
                header = Path(scratch, target.lstrip("/"))
                header.parent.mkdir(parents=True, exist_ok=True)
                header.write_text(source)
        written = sorted({f"-I{p.parent}" for p in Path(scratch).rglob("*.h")})
        shipped = sorted({f"-I{p.parent}" for p in task_dir.rglob("*.h")})
        for where, kind, source, target in found:
            if kind == "python":
                try:
                    compile(source, where, "exec")
                except SyntaxError as exc:
                    out.append(f"{where}: {exc}")
                continue
            if kind == "c" and not shutil.which("gcc"):
                continue
            include = (written if target else []) + shipped
            cmd = ["bash", "-n"] if kind == "bash" else ["gcc", "-fsyntax-only", "-x", "c", *include, "-"]
            run = subprocess.run(cmd, input=source, capture_output=True, text=True, timeout=60)
            if run.returncode:
                out.append(f"{where}: {run.stderr.strip()}")
    return out


@pytest.mark.parametrize("difficulty", [1, 2, 3, 4])
@pytest.mark.parametrize("name", NAMES)
def test_programs_parse(name, difficulty, tmp_path):
    task_dir = build(name, difficulty, seed=0, out=tmp_path)
    kinds = {kind for _, kind, _, _ in programs(task_dir)}
    assert {"bash", "python"} <= kinds  # at least solve.sh, test.sh and test_task.py
    assert problems(task_dir) == []


def test_a_broken_program_is_reported(tmp_path):
    files = {"solution/solve.sh": "cat > /tmp/x.py <<'EOF'\nprint((1)\nEOF\nif then\n",
             "tests/test_task.py": "def f(:\n",
             "environment/app/tool": "#!/bin/bash\ncase\n",
             "environment/app/x.h": "int ok;\n",
             "environment/app/x.c": '#include "x.h"\nint main(void) { return ok }\n',
             "environment/app/data.txt": "not a program (\n"}
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    found = problems(tmp_path)
    expected = ["solution/solve.sh:", "solution/solve.sh heredoc 1 ", "tests/test_task.py:", "environment/app/tool:"]
    expected += ["environment/app/x.c:"] if shutil.which("gcc") else []
    assert len(found) == len(expected) and all(any(p.startswith(e) for p in found) for e in expected), found


def test_fill_is_strict_and_leaves_program_text_alone(tmp_path):
    (tmp_path / "prog.c").write_text('printf("FLAG{%08x} %d\\n", {{ n }}); /* ${#x} {# */\n')
    files = FamilyFiles(str(tmp_path / "build.py"))
    assert files.fill("prog.c", n=7) == 'printf("FLAG{%08x} %d\\n", 7); /* ${#x} {# */\n'
    for values in ({}, {"n": 7, "m": 8}):
        with pytest.raises(ValueError, match="placeholders"):
            files.fill("prog.c", **values)
    (tmp_path / "t.py").write_text("X = {{ x | repr }}\nY = {{ y | ascii }}")
    assert files.fill("t.py", x={"a": b"\xff"}, y="zoë") == "X = {'a': b'\\xff'}\nY = 'zo\\xeb'"
