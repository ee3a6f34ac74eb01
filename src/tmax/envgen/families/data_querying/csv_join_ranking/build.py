"""csv_join_ranking: rank employees within departments across joined CSV files."""

from __future__ import annotations

import random

from tmax.envgen.bundle import TaskParts
from tmax.envgen.families import family
from tmax.envgen.families.data_querying import csv_rows, table_test
from tmax.envgen.families.files import FamilyFiles

FILES = FamilyFiles(__file__)

_FIRST = ["Ada", "Bo", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jo", "Kai", "Lu", "Max", "Nia", "Oz", "Pia"]
_LAST = ["Ames", "Bell", "Cole", "Dunn", "Egan", "Ford", "Gray", "Hale", "Irwin", "Jude", "Knox", "Lowe"]
_DEPTS = ["Research", "Sales", "Support", "Finance", "Legal", "Design", "Ops", "Security"]


def _staff(rng: random.Random, difficulty: int) -> dict:
    depts = [(f"D{i + 10}", name) for i, name in enumerate(rng.sample(_DEPTS, 3 + difficulty))]
    names = rng.sample([f"{f} {la}" for f in _FIRST for la in _LAST], 10 + 8 * difficulty)
    if difficulty >= 4:
        names = [f"{n.split()[1]}, {n.split()[0]}" if i % 4 == 0 else n for i, n in enumerate(names)]
    pay = rng.sample(range(400, 1800), len(names)) if difficulty < 3 else [rng.randint(40, 60) for _ in names]
    emps = [(f"E{i + 100}", n, rng.choice(depts)[0], pay[i] * 100) for i, n in enumerate(names)]
    hist, gone = [], []
    for e in emps:
        days = sorted(rng.sample(range(1, 900 if difficulty >= 4 else 700), rng.randint(int(difficulty < 3), 3)))
        for k, day in enumerate(days):
            hist.append((e[0], f"{2024 + day // 336}-{day % 336 // 28 + 1:02d}-{day % 28 + 1:02d}", e[3] + 1000 * k))
        if difficulty >= 4 and rng.random() < 0.15:
            gone.append((e[0], f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"))
    rng.shuffle(hist)
    return {"depts": depts, "emps": emps, "hist": hist, "gone": gone}


def _ranking(d: dict, difficulty: int) -> dict[str, str]:
    dname = dict(d["depts"])
    pay = {e[0]: e[3] for e in d["emps"]}
    if difficulty >= 3:
        cur: dict = {}
        for emp, day, salary in d["hist"]:
            if (difficulty < 4 or day <= "2025-12-31") and (emp not in cur or day > cur[emp][0]):
                cur[emp] = (day, salary)
        gone = {g[0] for g in d["gone"]}
        pay = {e: v[1] for e, v in cur.items() if e not in gone}
    groups: dict = {}
    for emp, name, dept, _ in d["emps"]:
        if emp in pay:
            groups.setdefault(dept, []).append((-pay[emp], name))
    if difficulty == 1:
        rows = [(k, min(v)[1], -min(v)[0]) for k, v in sorted(groups.items())]
        return {"/app/top.csv": csv_rows("dept_id,name,salary", rows)}
    keep = 2 if difficulty == 2 else 3
    rows = [(dname[k], r + 1, n, -p) for k, v in groups.items() for r, (p, n) in enumerate(sorted(v)[:keep])]
    out = {"/app/top.csv": csv_rows("department,rank,name,salary", sorted(rows))}
    if difficulty >= 3:
        summary = [(dname[k], len(groups.get(k, [])), -sum(p for p, _ in groups.get(k, []))) for k in dname]
        summary.sort(key=lambda t: (-t[2], t[0]))
        out["/app/dept_summary.csv"] = csv_rows("department,headcount,total_salary", summary)
    return out


@family(name="csv_join_ranking", domain="data_querying", skill_type="join_and_rank",
        verifier="exact_text", fixture="text_only", language="python",
        skills=("parse_csv", "join_tables", "rank_within_groups", "latest_record_per_key", "write_csv"))
def build(rng: random.Random, difficulty: int) -> TaskParts:
    """Rank employees within departments across joined CSV files. Knobs: 1 top earner per
    department from one file; 2 top 2 with department names joined in; 3 current salary = latest
    row of a salary history (ties broken by name) plus a per-department summary; 4 terminated
    staff and future-dated raises excluded, names with commas (CSV quoting)."""
    d = _staff(rng, difficulty)
    emp_rows = [e if difficulty <= 2 else e[:3] for e in d["emps"]]
    files = {"environment/app/data/employees.csv":
             csv_rows("emp_id,name,dept_id" + (",salary" if difficulty <= 2 else ""), emp_rows)}
    text = ["/app/data/employees.csv has columns " + ("emp_id,name,dept_id,salary." if difficulty <= 2 else
                                                      "emp_id,name,dept_id.")]
    if difficulty >= 2:
        files["environment/app/data/departments.csv"] = csv_rows("dept_id,dept_name", d["depts"])
        text.append("/app/data/departments.csv maps dept_id to dept_name.")
    if difficulty >= 3:
        files["environment/app/data/salaries.csv"] = csv_rows("emp_id,effective_date,salary", d["hist"])
        text.append("/app/data/salaries.csv is the salary history (emp_id,effective_date YYYY-MM-DD,salary); an "
                    "employee's current salary is the row with the latest effective_date" +
                    (" on or before 2025-12-31 (later rows are scheduled raises and must be ignored)"
                     if difficulty >= 4 else "") + "; employees without such a row are left out everywhere.")
    if difficulty >= 4:
        files["environment/app/data/terminations.csv"] = csv_rows("emp_id,date", d["gone"])
        text.append("Employees listed in /app/data/terminations.csv have left and are left out everywhere. "
                    "Files use standard CSV quoting (some names contain commas).")
    if difficulty == 1:
        text.append("Write /app/top.csv with header `dept_id,name,salary`: the highest-paid employee of each "
                    "department, sorted by dept_id.")
    else:
        keep = 2 if difficulty == 2 else 3
        text.append(f"Write /app/top.csv with header `department,rank,name,salary`: for each department (by "
                    f"dept_name) its {keep} highest-paid employees (fewer if it has fewer), rank 1 = highest "
                    "salary, equal salaries ordered by name; rows sorted by department, then rank.")
    if difficulty >= 3:
        text.append("Write /app/dept_summary.csv with header `department,headcount,total_salary`: one row per "
                    "department in departments.csv (0 and 0 when it has nobody left), sorted by total_salary "
                    "descending, then department.")
    instruction = "\n\n".join(text) + ("\n\nOutput files are comma-separated, written with standard CSV quoting "
                                       "(only fields containing a comma are double-quoted); strings sort in "
                                       "plain byte order.")
    solution = FILES.fill("solve.sh", difficulty=difficulty)
    return TaskParts(instruction, table_test(_ranking(d, difficulty)), solution, files,
                     knobs={"input_files": len(files), "top_k": min(difficulty, 3),
                            "history_and_summary": difficulty >= 3, "exclusions_and_quoting": difficulty >= 4})
