"""sensor_stats_outliers: per-sensor summary statistics of readings, with IQR outlier removal."""

from __future__ import annotations

import random

import numpy as np

from tmax.envgen.bundle import TaskParts
from tmax.envgen.families import family
from tmax.envgen.families.files import FamilyFiles

FILES = FamilyFiles(__file__)

_SENSORS = ["temp_a", "temp_b", "hum_1", "hum_2", "press", "flow_x", "volt_3", "lux_9"]


def _stat_columns(difficulty: int) -> tuple[str, ...]:
    return ("count", "mean", "min", "max") if difficulty == 1 else ("count", "mean", "median", "std")


def _fences(values: list) -> tuple[float, float]:
    q1, q3 = np.percentile(values, [25, 75])
    return q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)


def _sensor_values(rng: random.Random, difficulty: int) -> list:
    """Readings of one sensor; at 3+ a few far outliers, and no value close to an IQR fence."""
    while True:
        mu, sd = rng.uniform(10, 80), rng.uniform(0.5, 5)
        vals = [round(rng.gauss(mu, sd), 2) for _ in range(rng.randint(15, 30) * min(difficulty, 2))]
        if difficulty >= 3:
            vals += [round(mu + rng.choice([-1, 1]) * rng.uniform(8, 12) * sd, 2) for _ in range(rng.randint(1, 4))]
        lo, hi = _fences(vals)
        if all(abs(v - lo) > 0.01 and abs(v - hi) > 0.01 for v in vals):
            return vals


def _sensor_rows(rng: random.Random, difficulty: int) -> tuple[list, list]:
    """Shuffled (timestamp, sensor, value text) rows and the valid unique readings."""
    readings = [(s, f"{v:.2f}") for s in sorted(rng.sample(_SENSORS, 1 + difficulty))
                for v in _sensor_values(rng, difficulty)]
    if difficulty >= 4:  # invalid readings on top of the valid ones
        readings += [(rng.choice(readings)[0], rng.choice(["", "NaN", "ERR"])) for _ in range(len(readings) // 10)]
    rng.shuffle(readings)
    rows = [(f"2025-03-{1 + i // 1440:02d}T{i // 60 % 24:02d}:{i % 60:02d}", s, v)
            for i, (s, v) in zip(sorted(rng.sample(range(4300), len(readings))), readings)]
    valid = [r for r in rows if r[2] not in ("", "NaN", "ERR")]
    if difficulty >= 4:
        rows = sorted(rows + rng.sample(rows, len(rows) // 12))  # exact duplicates
    return rows, valid


def _sensor_answers(valid: list, difficulty: int) -> tuple[dict, list]:
    by: dict = {}
    for _, s, v in valid:
        by.setdefault(s, []).append(float(v))
    stats, outliers = {}, []
    for s, vals in sorted(by.items()):
        if difficulty >= 3:
            lo, hi = _fences(vals)
            outliers += [r for r in valid if r[1] == s and not lo <= float(r[2]) <= hi]
            vals = [v for v in vals if lo <= v <= hi]
        a = np.array(vals)
        full = {"count": len(vals), "mean": a.mean(), "min": a.min(), "max": a.max(), "median": np.median(a),
                "std": a.std()}
        stats[s] = {c: round(float(full[c]), 6) for c in _stat_columns(difficulty)}
    return stats, sorted(outliers)


@family(name="sensor_stats_outliers", domain="data_science", skill_type="descriptive_statistics",
        verifier="metric_threshold", fixture="text_only", language="python",
        skills=("parse_csv", "group_statistics", "iqr_outlier_detection", "deduplicate_records", "write_csv"))
def build(rng: random.Random, difficulty: int) -> TaskParts:
    """Per-sensor summary statistics of readings, with outlier removal. Knobs: number of sensors
    and readings; 1 count/mean/min/max; 2 median and population std; 3 IQR outliers removed and
    listed; 4 readings split over daily files with invalid values and exact duplicate rows."""
    rows, valid = _sensor_rows(rng, difficulty)
    stats, outliers = _sensor_answers(valid, difficulty)
    files = {}
    days = sorted({r[0][:10] for r in rows}) if difficulty >= 4 else ["all"]
    for day in days:
        part = [r for r in rows if day in ("all", r[0][:10])]
        text = "".join(",".join(r) + "\n" for r in part)
        files[f"environment/app/readings/{day}.csv"] = "timestamp,sensor,value\n" + text
    cols = ",".join(_stat_columns(difficulty))
    text = ["/app/readings/ holds CSV files (header `timestamp,sensor,value`) of sensor readings."]
    if difficulty >= 4:
        text.append("Readings are spread over several files. A value that is empty, `NaN` or `ERR` is invalid and "
                    "ignored; a row repeated exactly (same timestamp, sensor and value) counts once.")
    if difficulty >= 3:
        text.append("Per sensor, a reading is an outlier when its value is below Q1 - 1.5*IQR or above Q3 + 1.5*IQR "
                    "(IQR = Q3 - Q1), where Q1 and Q3 are the 25th and 75th percentiles of that sensor's valid "
                    "readings with linear interpolation (numpy.percentile's default: position (n-1)*p in the "
                    "sorted values). Statistics leave outliers out. Write /app/outliers.csv with header "
                    "`timestamp,sensor,value` listing every outlier row as in the input, sorted by timestamp.")
    std = " std is the population standard deviation (divide by n)." if difficulty >= 2 else ""
    text.append(f"Write /app/stats.csv with header `sensor,{cols}` and one row per sensor, sorted by sensor; count is "
                f"the number of readings used; other values are rounded to 3 decimals.{std} Values within 0.002 "
                "of the exact statistic count as right.")
    test = FILES.fill("test_task.py", expected=stats, outliers=outliers if difficulty >= 3 else None)
    return TaskParts("\n\n".join(text), test, FILES.fill("solve.sh", difficulty=difficulty), files,
                     knobs={"sensors": len(stats), "readings": len(rows), "median_std": difficulty >= 2,
                            "outliers": difficulty >= 3, "files": len(days), "dirty_rows": difficulty >= 4})
