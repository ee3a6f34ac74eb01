"""Benchmark contamination: n-gram overlap between generated tasks and benchmark tasks.

A task's text is its instruction (a multi-step task's: every step's) plus every text file under
tests/ and solution/ (a step's too; TB1: solution.sh and run-tests.sh), split into lowercased word tokens (``\\w+``); n-grams never
cross file boundaries. A generated task is contaminated to the extent its distinct n-grams
(n = 13, DESIGN "Dataset statistics": target 0%) occur anywhere in the benchmark set.

tmax's own boilerplate, shared by every generated task, is left out: tests/tmax_verify.py (the
grading library) and tests/test.sh of a task that carries it, and the test.sh that
``convert_tb1`` writes. Binary files and files over 1 MB (data, not task prose) are skipped.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tmax.envgen.dataset import TB1_TEST_SH, find_tasks, read_instruction, task_files

_MAX_BYTES = 1 << 20
_WORD = re.compile(r"\w+")
_TEXT_DIRS = ("tests/", "solution/")
_TB1_TEXT = {"solution.sh", "run-tests.sh"}


def _boilerplate(task_dir: Path, rel: str, data: bytes) -> bool:
    generated = (task_dir / "tests" / "tmax_verify.py").is_file()
    if rel == "tests/tmax_verify.py" or (rel == "tests/test.sh" and generated):
        return True
    return rel == "tests/test.sh" and data.decode(errors="replace") == TB1_TEST_SH


def task_texts(task_dir: Path) -> Iterator[tuple[str, str]]:
    """(source, text) pairs of the task's prose and code, boilerplate and binaries left out."""
    task_dir = Path(task_dir)
    yield "instruction", read_instruction(task_dir)
    for rel, path in task_files(task_dir):
        step_text = rel.startswith("steps/") and rel.split("/")[2:3] in (["tests"], ["solution"])
        if not (rel.startswith(_TEXT_DIRS) or rel in _TB1_TEXT or step_text) or path.stat().st_size > _MAX_BYTES:
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192] or _boilerplate(task_dir, rel, data):
            continue
        yield rel, data.decode(errors="replace")


def ngrams(text: str, n: int) -> Iterator[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return (tuple(words[i:i + n]) for i in range(len(words) - n + 1))


def _task_ngrams(task_dir: Path, n: int) -> dict[tuple[str, ...], None]:
    """The task's distinct n-grams in reading order (instruction first)."""
    return dict.fromkeys(g for _, text in task_texts(task_dir) for g in ngrams(text, n))


@dataclass
class TaskOverlap:
    task: str
    path: str
    n_ngrams: int                    # distinct n-grams of the task
    n_matched: int                   # of those, found in the benchmark set
    matches: dict[str, int]          # benchmark task -> shared n-grams, most first
    example: str = ""                # one shared n-gram, to see what matched

    @property
    def fraction(self) -> float:
        return self.n_matched / self.n_ngrams if self.n_ngrams else 0.0


@dataclass
class ContaminationReport:
    n: int
    bench: list[str]                 # benchmark task labels
    tasks: list[TaskOverlap] = field(default_factory=list)

    @property
    def flagged(self) -> list[TaskOverlap]:
        return sorted((t for t in self.tasks if t.n_matched), key=lambda t: (-t.fraction, t.task))

    @property
    def task_fraction(self) -> float:
        """Fraction of generated tasks sharing at least one n-gram with the benchmark."""
        return len(self.flagged) / len(self.tasks) if self.tasks else 0.0

    @property
    def ngram_fraction(self) -> float:
        """Matched n-grams over all (per-task distinct) n-grams of the generated tasks."""
        total = sum(t.n_ngrams for t in self.tasks)
        return sum(t.n_matched for t in self.tasks) / total if total else 0.0

    def to_dict(self) -> dict:
        return {"n": self.n, "n_bench_tasks": len(self.bench), "n_tasks": len(self.tasks),
                "task_fraction": self.task_fraction, "ngram_fraction": self.ngram_fraction,
                "flagged": [{"task": t.task, "path": t.path, "fraction": t.fraction, "n_matched": t.n_matched,
                             "n_ngrams": t.n_ngrams, "matches": t.matches, "example": t.example}
                            for t in self.flagged]}


def _labels(dirs: list[Path]) -> list[str]:
    """Task names, with the parent dir's name where two benchmarks share one (hello-world)."""
    names = Counter(d.name for d in dirs)
    return [d.name if names[d.name] == 1 else f"{d.parent.name}/{d.name}" for d in dirs]


def _bench_index(dirs: list[Path], n: int) -> dict[int, int | tuple[int, ...]]:
    """n-gram hash -> the benchmark task(s) holding it. Hashes, not tuples, keep a large benchmark
    in memory (a 64-bit collision among a few million n-grams is vanishingly unlikely)."""
    index: dict[int, int | tuple[int, ...]] = {}
    for i, d in enumerate(dirs):
        for g in _task_ngrams(d, n):
            h = hash(g)
            have = index.get(h)
            if have is None:
                index[h] = i
            elif have != i and (isinstance(have, int) or i not in have):
                index[h] = (have, i) if isinstance(have, int) else (*have, i)
    return index


def contamination(task_dirs: Iterable[str | Path], bench_dirs: Iterable[str | Path], n: int = 13,
                  on_task=None) -> ContaminationReport:
    """n-gram overlap of every generated task with the benchmark tasks; ``on_task(path)`` is
    called after each generated task (progress)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    bench = find_tasks(bench_dirs)
    labels = _labels(bench)
    index = _bench_index(bench, n)
    report = ContaminationReport(n, labels)
    for d in find_tasks(task_dirs):
        grams = _task_ngrams(d, n)
        hits: Counter[int] = Counter()
        matched = []
        for g in grams:
            owners = index.get(hash(g))
            if owners is not None:
                matched.append(g)
                hits.update((owners,) if isinstance(owners, int) else owners)
        example = " ".join(matched[0]) if matched else ""
        report.tasks.append(TaskOverlap(d.name, str(d), len(grams), len(matched),
                                        {labels[i]: c for i, c in hits.most_common()}, example))
        if on_task:
            on_task(d)
    return report


def write_contamination(report: ContaminationReport, out_dir: str | Path) -> Path:
    """Write contamination.md, contamination.json and an overlap histogram; returns the .md."""
    import json

    from tmax.envgen.stats import bar_chart, table

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "contamination.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    bins = ["0 (clean)", "(0, 1%]", "(1, 5%]", "(5, 20%]", "(20, 50%]", "(50, 100%]"]
    edges = [0.0, 0.01, 0.05, 0.20, 0.50, 1.0]
    hist = dict.fromkeys(bins, 0)
    for t in report.tasks:
        hist[bins[next(i for i, e in enumerate(edges) if t.fraction <= e)]] += 1
    bar_chart(hist, out / "contamination.png",
              f"Tasks by share of their {report.n}-grams found in the benchmark")
    flagged = report.flagged
    md = [f"# Contamination\n\n{len(report.tasks)} tasks against {len(report.bench)} benchmark tasks, "
          f"{report.n}-grams of lowercased word tokens (instruction, tests/, solution/; tmax's verifier "
          "boilerplate left out).",
          table(["measure", "value"], [["tasks with any overlap", f"{len(flagged)} ({report.task_fraction:.2%})"],
                                       [f"{report.n}-grams found in the benchmark", f"{report.ngram_fraction:.4%}"]]),
          "![histogram](contamination.png)",
          "## Tasks with overlap"]
    if flagged:
        md.append(table(["task", "shared", "of its n-grams", "benchmark task(s)", "example"],
                        [[t.task, t.n_matched, f"{t.fraction:.2%}",
                          ", ".join(f"{b} ({c})" for b, c in list(t.matches.items())[:3]), f"`{t.example}`"]
                         for t in flagged]))
    else:
        md.append("None.")
    (out / "contamination.md").write_text("\n\n".join(md) + "\n")
    return out / "contamination.md"
