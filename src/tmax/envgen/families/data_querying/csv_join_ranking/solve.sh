python3 - <<'PYEOF'
import csv
D = {{ difficulty }}
def rd(name):
    with open("/app/data/" + name, newline="") as f:
        return list(csv.DictReader(f))
emps = rd("employees.csv")
dname = {r["dept_id"]: r["dept_name"] for r in rd("departments.csv")} if D >= 2 else {}
if D >= 3:
    cur = {}
    for r in rd("salaries.csv"):
        emp, day = r["emp_id"], r["effective_date"]
        if (D < 4 or day <= "2025-12-31") and (emp not in cur or day > cur[emp][0]):
            cur[emp] = (day, int(r["salary"]))
    gone = {r["emp_id"] for r in rd("terminations.csv")} if D >= 4 else set()
    pay = {e: v[1] for e, v in cur.items() if e not in gone}
else:
    pay = {e["emp_id"]: int(e["salary"]) for e in emps}
groups = {}
for e in emps:
    if e["emp_id"] in pay:
        groups.setdefault(e["dept_id"], []).append((-pay[e["emp_id"]], e["name"]))
def write(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
if D == 1:
    rows = [(k, min(v)[1], -min(v)[0]) for k, v in sorted(groups.items())]
    write("/app/top.csv", ["dept_id", "name", "salary"], rows)
else:
    keep = 2 if D == 2 else 3
    rows = [(dname[k], r + 1, n, -p) for k, v in groups.items() for r, (p, n) in enumerate(sorted(v)[:keep])]
    write("/app/top.csv", ["department", "rank", "name", "salary"], sorted(rows))
if D >= 3:
    summ = [(dname[k], len(groups.get(k, [])), -sum(p for p, _ in groups.get(k, []))) for k in dname]
    summ.sort(key=lambda t: (-t[2], t[0]))
    write("/app/dept_summary.csv", ["department", "headcount", "total_salary"], summ)
PYEOF
