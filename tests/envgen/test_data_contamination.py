"""`tmax data contamination`: 13-gram overlap between generated and benchmark task texts, with
tmax's shared verifier boilerplate left out."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.envgen.test_data_stats import EXAMPLES, generated_tasks
from tmax.envgen.bundle import GRADING_LIB, TEST_SH
from tmax.envgen.contamination import contamination, ngrams, task_texts, write_contamination
from tmax.errors import ConfigError

SENTENCE = ("The quarterly ledger, exported by the warehouse robot at midnight, lists every pallet whose "
            "barcode failed the checksum test twice.")  # 20 words


def harbor_task(root: Path, name: str, instruction: str, files: dict[str, str] | None = None) -> Path:
    task = root / name
    (task / "environment").mkdir(parents=True)
    (task / "environment" / "Dockerfile").write_text("FROM debian:bookworm-slim\n")
    (task / "task.toml").write_text('version = "1.0"\n')
    (task / "instruction.md").write_text(instruction)
    for rel, text in (files or {"tests/test.sh": "#!/bin/bash\necho 1 > /logs/verifier/reward.txt\n"}).items():
        (task / rel).parent.mkdir(parents=True, exist_ok=True)
        (task / rel).write_text(text)
    return task


def test_ngrams_are_lowercased_words():
    assert list(ngrams("A b, C-d e!", 3)) == [("a", "b", "c"), ("b", "c", "d"), ("c", "d", "e")]
    assert list(ngrams("too short", 3)) == []
    assert len(SENTENCE.split()) == 20


def test_copied_sentence_is_flagged_and_distinct_task_is_not(tmp_path):
    bench = harbor_task(tmp_path / "bench", "ledger", f"Intro words here. {SENTENCE} Then write a report.")
    harbor_task(tmp_path / "bench", "other", "Compile the kernel module and load it into the running system now.")
    # case and punctuation differ, the words are the same: 3 + 20 words -> 11 13-grams, 8 inside the sentence
    copied = harbor_task(tmp_path / "gen", "copied", "please do this: " + SENTENCE.lower().replace(",", ""))
    distinct = harbor_task(tmp_path / "gen", "distinct",
                           "The quarterly ledger lists pallets; find the ones whose barcode checksum failed and "
                           "print them sorted by pallet number with their failure counts on separate lines.")
    report = contamination([copied, distinct], [tmp_path / "bench"])
    rows = {t.task: t for t in report.tasks}
    assert (rows["copied"].n_ngrams, rows["copied"].n_matched) == (11, 8)
    assert rows["copied"].fraction == pytest.approx(8 / 11)
    assert rows["copied"].matches == {"ledger": 8}
    assert rows["copied"].example == " ".join(SENTENCE.lower().replace(",", "").replace(".", "").split()[:13])
    assert rows["distinct"].n_matched == 0 and rows["distinct"].matches == {}
    assert [t.task for t in report.flagged] == ["copied"]
    assert report.task_fraction == 0.5
    assert report.ngram_fraction == pytest.approx(8 / (11 + rows["distinct"].n_ngrams))
    assert bench.name in report.bench


def test_tests_and_solution_count_too(tmp_path):
    harbor_task(tmp_path / "bench", "b", "Something unrelated entirely.",
                {"solution/solve.sh": f"#!/bin/bash\n# {SENTENCE}\n", "tests/test.sh": "true\n"})
    gen = harbor_task(tmp_path / "gen", "g", "Different words.", {"tests/check.py": f'"""{SENTENCE}"""\n'})
    assert contamination([gen], [tmp_path / "bench"]).tasks[0].n_matched == 8


def test_tmax_boilerplate_is_not_contamination(tmp_path):
    # a benchmark task that happens to ship tmax's verifier library and test.sh verbatim
    harbor_task(tmp_path / "bench", "b", "An unrelated benchmark instruction about compilers.",
                {"tests/test.sh": TEST_SH, "tests/lib.py": GRADING_LIB.read_text()})
    gen = generated_tasks(tmp_path / "gen", 2)
    texts = dict(task_texts(gen[0]))
    assert "tests/tmax_verify.py" not in texts and "tests/test.sh" not in texts
    assert {"instruction", "tests/test_task.py", "solution/solve.sh"} <= set(texts)
    report = contamination(gen, [tmp_path / "bench"])
    assert report.flagged == [] and report.ngram_fraction == 0.0
    # the control: the same benchmark also holding one generated task's own test is caught
    shutil.copy(gen[0] / "tests" / "test_task.py", tmp_path / "bench" / "b" / "tests" / "copied.py")
    flagged = contamination(gen, [tmp_path / "bench"]).flagged
    assert [t.task for t in flagged][:1] == [gen[0].name]


def test_generated_tasks_against_the_examples_are_clean(tmp_path):
    gen = generated_tasks(tmp_path / "gen", 3)
    report = contamination(gen, [EXAMPLES])
    assert report.flagged == [] and len(report.bench) == 6
    # an example is contaminated against itself, the TB1 one included
    assert contamination([EXAMPLES / "tb1-hello"], [EXAMPLES]).tasks[0].fraction == 1.0


def test_write_contamination(tmp_path):
    harbor_task(tmp_path / "bench", "ledger", SENTENCE)
    copied = harbor_task(tmp_path / "gen", "copied", SENTENCE)
    md = write_contamination(contamination([copied], [tmp_path / "bench"]), tmp_path / "out").read_text()
    assert "| tasks with any overlap | 1 (100.00%) |" in md and "ledger (8)" in md
    assert (tmp_path / "out" / "contamination.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "out" / "contamination.json").is_file()


def test_bad_paths(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        contamination([EXAMPLES], [tmp_path / "no-bench"])
    with pytest.raises(ValueError):
        contamination([EXAMPLES], [EXAMPLES], n=0)
