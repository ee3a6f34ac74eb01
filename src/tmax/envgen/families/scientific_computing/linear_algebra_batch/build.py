"""linear_algebra_batch: answer a batch of linear-algebra questions, some matrices in Matrix Market files."""

from __future__ import annotations

import json
import random

import numpy as np

from tmax.envgen.bundle import TaskParts
from tmax.envgen.families import family
from tmax.envgen.families.files import FamilyFiles

FILES = FamilyFiles(__file__)

_LINALG_OPS = {
    "solve": "the vector x with A x = b (A is square and invertible)",
    "det": "the determinant of A (a number)",
    "inverse": "the inverse of A (a list of rows)",
    "lstsq": "the least-squares solution x minimising ||A x - b|| (A has more rows than columns, full column rank)",
    "eigvals_sym": "the eigenvalues of the symmetric matrix A in ascending order",
    "rank": "the rank of A (an integer; the entries are exact integers)",
}


def _linalg_problem(rng: random.Random, op: str, n: int) -> tuple[dict, object]:
    """One problem (A and maybe b, as lists) and its answer."""
    def rand(rows: int, cols: int) -> np.ndarray:
        return np.array([[round(rng.uniform(-5, 5), 2) for _ in range(cols)] for _ in range(rows)])
    b = None
    if op == "rank":
        r = rng.randint(1, n - 1)
        a = (np.array([[rng.randint(-3, 3) for _ in range(r)] for _ in range(n)])
             @ np.array([[rng.randint(-3, 3) for _ in range(n)] for _ in range(r)])).astype(float)
        return {"A": a.astype(int).tolist()}, int(np.linalg.matrix_rank(a))
    if op == "lstsq":
        a = rand(n + rng.randint(2, 4), n)
        b = rand(1, len(a))[0]
        answer = np.linalg.lstsq(a, b, rcond=None)[0].tolist()
    else:
        a = rand(n, n)
        if op == "eigvals_sym":
            a = np.round((a + a.T) / 2, 3)
        else:
            a = a + np.diag([rng.choice([-1, 1]) * round(rng.uniform(n + 4, n + 8), 2) for _ in range(n)])
        b = rand(1, n)[0] if op == "solve" else None
        answer = {"solve": lambda: np.linalg.solve(a, b).tolist(), "det": lambda: float(np.linalg.det(a)),
                  "inverse": lambda: np.linalg.inv(a).tolist(),
                  "eigvals_sym": lambda: sorted(np.linalg.eigvalsh(a).tolist())}[op]()
    prob = {"A": a.tolist()}
    if b is not None:
        prob["b"] = b.tolist()
    return prob, answer


def _mtx(a: list[list]) -> str:
    entries = [(i + 1, j + 1, v) for i, row in enumerate(a) for j, v in enumerate(row) if v != 0]
    lines = ["%%MatrixMarket matrix coordinate real general", f"{len(a)} {len(a[0])} {len(entries)}"]
    return "\n".join(lines + [f"{i} {j} {v}" for i, j, v in entries]) + "\n"


@family(name="linear_algebra_batch", domain="scientific_computing", skill_type="numerical_methods",
        verifier="metric_threshold", fixture="text_only", language="python",
        skills=("linear_algebra_solve", "parse_json_input", "matrix_market_parsing", "floating_point_tolerance"),
        command_complexity="bash_code")
def build(rng: random.Random, difficulty: int) -> TaskParts:
    """Answer a batch of linear-algebra questions (solve, det, inverse, least squares, symmetric
    eigenvalues, rank). Knobs: problem count (3/5/7/9), matrix size (3 up to 8), operations (2/3/5/6
    kinds), matrices stored as Matrix Market files (4), relative tolerance (1e-4 down to 1e-8)."""
    ops = list(_LINALG_OPS)[: [2, 3, 5, 6][difficulty - 1]]
    tol = [1e-4, 1e-6, 1e-7, 1e-8][difficulty - 1]
    problems, expected, files, sizes = [], {}, {}, []
    for i in range(2 * difficulty + 1):
        op = ops[i] if i < len(ops) else rng.choice(ops)
        n = [3, 4, rng.randint(5, 6), rng.randint(6, 8)][difficulty - 1]
        sizes.append(n)
        prob, answer = _linalg_problem(rng, op, n)
        pid = f"q{i + 1}"
        if difficulty == 4 and i % 2 == 1:
            files[f"environment/app/matrices/{pid}.mtx"] = _mtx(prob.pop("A"))
            prob = {"A_file": f"matrices/{pid}.mtx", **prob}
        problems.append({"id": pid, "op": op, **prob})
        expected[pid] = answer
    files["environment/app/linalg.json"] = json.dumps(problems, indent=1) + "\n"
    op_text = "\n".join(f"- `{op}`: {_LINALG_OPS[op]}" for op in ops)
    mtx_note = ("Some problems give the matrix as `A_file` instead of `A`: a path relative to /app of a Matrix Market "
                "coordinate file (a `%%MatrixMarket` header line, then `rows cols entries`, then one `i j value` line "
                "per nonzero entry with 1-based indices; entries not listed are 0).\n\n") if difficulty == 4 else ""
    instruction = (
        "/app/linalg.json is a list of linear-algebra problems. Each has an `id`, an `op`, a matrix `A` (a list of "
        "rows) and, for `solve` and `lstsq`, a vector `b`. The operations:\n\n"
        f"{op_text}\n\n{mtx_note}"
        "Write /app/answers.json: a JSON object mapping every problem id to its answer (a number, a list of numbers "
        "or a list of rows, as above). A problem counts as correct when every number has relative error at most "
        f"{tol:g} (the error is divided by max(1, |true value|))."
    )
    return TaskParts(instruction, FILES.fill("test_task.py", data={"expected": expected, "tol": tol}),
                     FILES.read("solve.sh"), files,
                     knobs={"problems": len(problems), "ops": len(ops), "max_size": max(sizes), "tolerance": tol,
                            "matrix_market_files": difficulty == 4})
