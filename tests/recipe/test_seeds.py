"""The report across seeds: per-seed gains against their combined SE, the mean ± SE of the
gains, checked against values computed by hand; --seeds parsing."""

from __future__ import annotations

import json
import math

import pytest

from tmax.errors import ConfigError
from tmax.recipe import RecipeConfig
from tmax.recipe.seeds import across_seeds, mean_and_se, parse_seeds, run_seeds, seed_gain, write_seeds_report


def test_seed_gain_against_twice_the_combined_se():
    g = seed_gain(0.751, 0.010, 0.795, 0.010)  # an earlier example run: +0.044, SE sqrt(2) x 0.01
    assert g["gain"] == pytest.approx(0.044) and g["combined_se"] == pytest.approx(0.0141421356)
    assert g["two_se"] == pytest.approx(0.0282842712) and g["passed"] is False  # > 2 SE, but < +0.08
    g = seed_gain(0.60, 0.03, 0.72, 0.04)       # SE = sqrt(0.0009 + 0.0016) = 0.05
    assert g["combined_se"] == pytest.approx(0.05) and g["two_se"] == pytest.approx(0.10) and g["passed"] is True
    assert seed_gain(0.50, 0.01, 0.58, 0.0)["passed"] is True      # exactly +0.08 counts (float noise aside)
    assert seed_gain(0.50, 0.06, 0.62, 0.03)["passed"] is False    # +0.12 but 2 SE = 0.134
    assert seed_gain(0.80, 0.01, 0.70, 0.01)["passed"] is False    # a loss


def test_mean_and_se_of_the_gains():
    mean, se = mean_and_se([0.12, 0.04, 0.08])  # sample sd 0.04 -> SE 0.04 / sqrt(3)
    assert mean == pytest.approx(0.08) and se == pytest.approx(0.04 / math.sqrt(3))
    assert mean_and_se([0.05]) == (0.05, None)
    across = across_seeds({0: seed_gain(0.6, 0.01, 0.72, 0.01), 1: seed_gain(0.6, 0.01, 0.64, 0.01)})
    assert across["mean_gain"] == pytest.approx(0.08) and across["se_gain"] == pytest.approx(0.04)
    assert (across["n_passed"], across["all_passed"]) == (1, False)


def _seed_summary(root, seed, sft, rl, **extra):
    report = root / f"seed-{seed}" / "report"
    report.mkdir(parents=True)
    models = {"SFT": {"mean": sft[0], "sem": sft[1]}, "SFT+RL": {"mean": rl[0], "sem": rl[1]}}
    machine = {"cpu": "Test CPU", "cores": 2, "python": "3.11", "torch": "2.13.0", "transformers": "5.24.0"}
    (report / "summary.json").write_text(json.dumps({"models": models, "machine": machine, **extra}))


def test_report_across_seeds_from_the_seed_reports(tmp_path):
    curve = [{"step": 0, "mean": 0.60}, {"step": 10, "mean": 0.675}, {"step": 20, "mean": 0.72}]
    _seed_summary(tmp_path, 0, (0.60, 0.03), (0.72, 0.04), heldout_during_rl=curve, total_seconds=1119.0)
    _seed_summary(tmp_path, 1, (0.70, 0.01), (0.74, 0.01))  # an older report: no curve, no time
    path = write_seeds_report(tmp_path, [0, 1, 2])  # seed 2 has not finished
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["per_seed"]["0"]["passed"] is True and summary["per_seed"]["1"]["passed"] is False
    assert summary["across"]["mean_gain"] == pytest.approx(0.08) and summary["across"]["se_gain"] == pytest.approx(0.04)
    text = path.read_text()
    assert "| 0 | 0.600 ± 0.030 | 0.720 ± 0.040 | +0.120 | 0.100 | yes | 0.60 → 0.68 → 0.72 | 18.6 |" in text
    assert "| 1 | 0.700 ± 0.010 | 0.740 ± 0.010 | +0.040 | 0.028 | no | – | – |" in text
    assert "+0.080 ± 0.040" in text and "1 of 2 pass" in text and "seed(s) 2" in text and "Test CPU" in text
    assert (tmp_path / "report" / "seeds.png").stat().st_size > 0 and "SFT failed" not in text


def test_a_seed_whose_sft_failed_is_flagged(tmp_path):
    assert seed_gain(0.149, 0.01, 0.149, 0.01)["sft_failed"] is True
    assert seed_gain(0.15, 0.01, 0.30, 0.01)["sft_failed"] is False
    _seed_summary(tmp_path, 3, (0.049, 0.010), (0.049, 0.016))  # copying never formed in SFT
    _seed_summary(tmp_path, 4, (0.40, 0.02), (0.52, 0.02))
    text = write_seeds_report(tmp_path, [3, 4]).read_text()
    assert "| 3 | 0.049 ± 0.010 (SFT failed) | 0.049 ± 0.016 | +0.000 |" in text
    assert "| 4 | 0.400 ± 0.020 | 0.520" in text and "**SFT failed on seed(s) 3**" in text
    assert json.loads((tmp_path / "report" / "summary.json").read_text())["across"]["sft_failed"] == [3]


def test_seeds_parsing_and_a_single_run_dir_is_refused(tmp_path):
    assert parse_seeds("0, 1,2,1") == [0, 1, 2]
    with pytest.raises(ConfigError, match="--seeds"):
        parse_seeds("a,b")
    (tmp_path / "recipe.json").write_text("{}")
    with pytest.raises(ConfigError, match="single recipe run"):
        run_seeds(RecipeConfig(out=str(tmp_path)), [0, 1])
