EXPECTED = {{ expected | repr }}
OUTLIERS = {{ outliers | repr }}
import csv
from tmax_verify import Grader
g = Grader()
text = g.read("/app/stats.csv")
g.gate("stats.csv exists", text is not None)
got = {r.get("sensor"): r for r in csv.DictReader((text or "").splitlines())}
errors = []
for sensor, stats in EXPECTED.items():
    for col, want in stats.items():
        try:
            errors.append(abs(float(got[sensor][col]) - want))
        except (KeyError, TypeError, ValueError):
            errors.append(float("inf"))
worst = max(errors)
g.score("cells within 0.002", sum(e <= 0.002 for e in errors) / len(errors), weight=1)
g.metric_threshold("max abs error", worst if worst != float("inf") else None, 0.002, higher_is_better=False, weight=2)
if OUTLIERS is not None:
    rows = list(csv.reader((g.read("/app/outliers.csv") or "").splitlines()))[1:]
    try:
        have = sorted((r[0].strip(), r[1].strip(), round(float(r[2]), 2)) for r in rows if r)
    except (IndexError, ValueError):
        have = None
    g.check("outliers", have == sorted((t, s, round(float(v), 2)) for t, s, v in OUTLIERS), weight=1)
g.finish()
