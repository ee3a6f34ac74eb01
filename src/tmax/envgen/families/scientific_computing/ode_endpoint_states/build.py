"""ode_endpoint_states: integrate initial value problems and report the states at given times."""

from __future__ import annotations

import json
import math
import random

from tmax.envgen.bundle import TaskParts
from tmax.envgen.families import family
from tmax.envgen.families.files import FamilyFiles

FILES = FamilyFiles(__file__)

_ODES = {  # kind -> (equation text, right-hand side, parameter ranges, initial state ranges)
    "decay": ("y' = -k*y", lambda y, p: [-p["k"] * y[0]], {"k": (0.1, 1.5)}, [(1, 10)]),
    "logistic": ("y' = r*y*(1 - y/K)", lambda y, p: [p["r"] * y[0] * (1 - y[0] / p["K"])],
                 {"r": (0.3, 1.5), "K": (5, 50)}, [(0.5, 4)]),
    "oscillator": ("x' = v, v' = -2*zeta*omega*v - omega**2*x",
                   lambda y, p: [y[1], -2 * p["zeta"] * p["omega"] * y[1] - p["omega"] ** 2 * y[0]],
                   {"zeta": (0.05, 0.6), "omega": (0.5, 3)}, [(-2, 2), (-1, 1)]),
    "lotka_volterra": ("x' = a*x - b*x*y, y' = d*x*y - c*y",
                       lambda y, p: [p["a"] * y[0] - p["b"] * y[0] * y[1], p["d"] * y[0] * y[1] - p["c"] * y[1]],
                       {"a": (0.5, 1.5), "b": (0.2, 0.8), "c": (0.5, 1.5), "d": (0.2, 0.8)}, [(1, 4), (1, 4)]),
    "van_der_pol": ("x' = v, v' = mu*(1 - x**2)*v - x", lambda y, p: [y[1], p["mu"] * (1 - y[0] ** 2) * y[1] - y[0]],
                    {"mu": (0.5, 2.0)}, [(-2, 2), (-1, 1)]),
}


def _rk4(f, p: dict, y: list[float], t_eval: list[float], h: float = 1e-3) -> list[list[float]]:
    out, t = [], 0.0
    for target in t_eval:
        n = max(1, math.ceil((target - t) / h - 1e-9))
        dt = (target - t) / n
        for _ in range(n):
            k1 = f(y, p)
            k2 = f([a + dt / 2 * b for a, b in zip(y, k1)], p)
            k3 = f([a + dt / 2 * b for a, b in zip(y, k2)], p)
            k4 = f([a + dt * b for a, b in zip(y, k3)], p)
            y = [a + dt / 6 * (b + 2 * c + 2 * d + e) for a, b, c, d, e in zip(y, k1, k2, k3, k4)]
        out.append(y)
        t = target
    return out


@family(name="ode_endpoint_states", domain="scientific_computing", skill_type="numerical_methods",
        verifier="metric_threshold", fixture="text_only", language="python",
        skills=("ode_solving", "runge_kutta_integration", "parse_json_input", "floating_point_tolerance"),
        command_complexity="bash_code")
def build(rng: random.Random, difficulty: int) -> TaskParts:
    """Integrate initial value problems and report states at given times. Knobs: problem count
    (2/4/6/8), equation kinds (decay+logistic, +oscillator, +Lotka-Volterra, +Van der Pol), output
    times per problem (1/1/2/3), relative tolerance (1e-3 down to 1e-7)."""
    kinds = list(_ODES)[: [2, 3, 4, 5][difficulty - 1]]
    tol = [1e-3, 1e-4, 1e-5, 1e-7][difficulty - 1]
    problems, expected = [], {}
    for i in range(2 * difficulty):
        kind = kinds[i % len(kinds)] if i < len(kinds) else rng.choice(kinds)
        _, rhs, ranges, y_ranges = _ODES[kind]
        params = {k: round(rng.uniform(*r), 3) for k, r in ranges.items()}
        y0 = [round(rng.uniform(*r), 3) for r in y_ranges]
        t_eval = sorted(rng.sample(range(1, 13), [1, 1, 2, 3][difficulty - 1]))
        t_eval = [t * (0.5 if difficulty >= 3 else 1.0) for t in t_eval]
        pid = f"p{i + 1}"
        problems.append({"id": pid, "kind": kind, "params": params, "y0": y0, "t_eval": t_eval})
        expected[pid] = _rk4(rhs, params, y0, t_eval, 5e-4)
    states = {"decay": "[y]", "logistic": "[y]", "oscillator": "[x, v]", "lotka_volterra": "[x, y]",
              "van_der_pol": "[x, v]"}
    eqs = "\n".join(f"- `{k}`: {_ODES[k][0]}; state `{states[k]}`" for k in kinds)
    instruction = (
        "/app/problems.json is a list of initial value problems. Each has an `id`, a `kind`, `params` (the "
        "constants of the equations), `y0` (the state at t = 0) and `t_eval` (ascending times). The kinds:\n\n"
        f"{eqs}\n\n"
        "Integrate each problem from t = 0 and write /app/solutions.json: a JSON object mapping every problem "
        "id to a list with one state vector (a list of numbers, in the order above) per entry of `t_eval`, e.g. "
        '`{"p1": [[0.53]], "p2": [[1.2, -0.4]]}`. '
        f"A problem counts as correct when every number has relative error at most {tol:g} (the error is "
        "divided by max(1, |true value|))."
    )
    return TaskParts(instruction, FILES.fill("test_task.py", data={"expected": expected, "tol": tol}),
                     FILES.read("solve.sh"), {"environment/app/problems.json": json.dumps(problems, indent=1) + "\n"},
                     knobs={"problems": len(problems), "kinds": len(kinds), "times_per_problem": len(t_eval),
                            "tolerance": tol})
