"""regression_predict: fit a regression model and predict a test set, scored by RMSE."""

from __future__ import annotations

import random

import numpy as np

from tmax.envgen.bundle import TaskParts
from tmax.envgen.families import family
from tmax.envgen.families.files import FamilyFiles

FILES = FamilyFiles(__file__)


def _design(x: np.ndarray, quadratic: bool) -> np.ndarray:
    cols = [np.ones(len(x))] + [x[:, j] for j in range(x.shape[1])]
    if quadratic:
        cols += [x[:, i] * x[:, j] for i in range(x.shape[1]) for j in range(i, x.shape[1])]
    return np.column_stack(cols)


def _regression_data(rng: random.Random, difficulty: int) -> dict:
    gen = np.random.default_rng(rng.getrandbits(64))
    k = 1 if difficulty == 1 else 3
    n_train, n_test = 40 + 60 * difficulty, 30
    x = gen.uniform(-2, 2, (n_train + n_test, k))
    design = _design(x, difficulty >= 3)
    coef = gen.uniform(0.5, 2.5, design.shape[1]) * gen.choice([-1, 1], design.shape[1])
    if difficulty >= 3:  # only two of the quadratic terms are active
        quad = list(range(1 + k, design.shape[1]))
        active = set(gen.choice(quad, 2, replace=False).tolist())
        coef[[q for q in quad if q not in active]] = 0
    truth = design @ coef
    sites = gen.choice(list("ABC"), n_train + n_test) if difficulty >= 4 else None
    if sites is not None:
        truth = truth + np.select([sites == s for s in "ABC"], list(gen.uniform(-3, 3, 3)))
        design = np.column_stack([design] + [(sites == s).astype(float) for s in "BC"])
    dirty = gen.random(n_train) < (0.08 if difficulty >= 4 else 0)
    while True:  # redraw the noise until the reference fit clears the threshold with margin
        y = truth + gen.normal(0, 0.5, len(truth))
        fit = np.linalg.lstsq(design[:n_train][~dirty], y[:n_train][~dirty], rcond=None)[0]
        if np.sqrt(np.mean((design[n_train:] @ fit - truth[n_train:]) ** 2)) < 0.2:
            return {"x": x, "truth": truth, "y": y, "sites": sites, "n_train": n_train, "dirty": dirty}


def _regression_csvs(d: dict, difficulty: int, rng: random.Random) -> tuple[str, str]:
    k, n = d["x"].shape[1], d["n_train"]
    feats = [f"x{j + 1}" for j in range(k)] + (["site"] if d["sites"] is not None else [])

    def cells(i):
        row = {f"x{j + 1}": f"{d['x'][i, j]:.4f}" for j in range(k)}
        if d["sites"] is not None:
            row["site"] = str(d["sites"][i])
        return row
    train = [",".join(["id"] + feats + ["y"])]
    for i in range(n):
        y = f"{d['y'][i]:.4f}"
        if d["dirty"][i]:
            y = rng.choice(["", "NA", "nan?"])
        train.append(",".join([f"r{i}"] + [cells(i)[f] for f in feats] + [y]))
    test_feats = feats[::-1] if difficulty >= 4 else feats
    test = [",".join(["id"] + test_feats)] + [",".join([f"t{i}"] + [cells(i)[f] for f in test_feats])
                                              for i in range(n, len(d["truth"]))]
    return "\n".join(train) + "\n", "\n".join(test) + "\n"


@family(name="regression_predict", domain="data_science", skill_type="model_fitting",
        verifier="metric_threshold", fixture="text_only", language="python",
        skills=("parse_csv", "least_squares_fit", "feature_engineering", "clean_missing_values", "write_csv"))
def build(rng: random.Random, difficulty: int) -> TaskParts:
    """Fit a regression model to /app/data/train.csv and predict /app/data/test.csv, scored by
    RMSE against the noise-free truth. Knobs: 1 one feature, linear; 2 three features; 3 two hidden
    quadratic/interaction terms; 4 a categorical site offset, unusable training targets to drop and
    test columns in a different order; training set size grows with difficulty."""
    d = _regression_data(rng, difficulty)
    train, test = _regression_csvs(d, difficulty, rng)
    n = d["n_train"]
    truth = {f"t{i}": round(float(d["truth"][i]), 6) for i in range(n, len(d["truth"]))}
    spread = float(np.std(list(truth.values())))
    model = {1: "y is a linear function of x1 plus noise",
             2: "y is a linear function of x1, x2, x3 plus noise",
             3: "y is a polynomial of degree at most 2 in x1, x2, x3 (squares and pairwise products may occur) "
                "plus noise"}.get(difficulty, "y is a polynomial of degree at most 2 in x1, x2, x3 (squares and "
                                  "pairwise products may occur) plus a constant offset that depends on the "
                                  "categorical column `site` (A, B or C), plus noise")
    extra = (" Some training rows have an empty or non-numeric y; they carry no information. The columns of "
             "test.csv are in a different order than in train.csv." if difficulty >= 4 else "")
    instruction = (f"/app/data/train.csv has an id, the features and a target y; /app/data/test.csv has the same "
                   f"columns without y. {model} (noise standard deviation 0.5).{extra}\n\nWrite "
                   "/app/predictions.csv with header `id,y` and one row per test.csv row: its id and the predicted "
                   "y. Predictions are scored by root-mean-square error against the true noise-free y: it must be "
                   "at most 0.3 for full credit; an RMSE below half the standard deviation of the true values "
                   "earns partial credit.")
    test_src = FILES.fill("test_task.py", truth=truth, spread=spread)
    files = {"environment/app/data/train.csv": train, "environment/app/data/test.csv": test}
    return TaskParts(instruction, test_src, FILES.fill("solve.sh", quadratic=difficulty >= 3), files,
                     knobs={"features": d["x"].shape[1], "train_rows": n, "quadratic": difficulty >= 3,
                            "categorical_and_dirty": difficulty >= 4})
