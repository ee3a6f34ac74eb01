EXPECTED = {{ expected | repr }}
THRESHOLD = {{ threshold | repr }}
import csv
from tmax_verify import Grader
g = Grader()
text = g.read("/app/counts.csv")
g.gate("counts.csv exists", text is not None)
got = {r[0].strip(): ",".join(c.strip() for c in r[1:]) for r in csv.reader((text or "").splitlines()) if r}
acc = sum(got.get(f) == v for f, v in EXPECTED.items()) / len(EXPECTED)
g.score("accuracy", acc, weight=1)
g.metric_threshold("accuracy threshold", acc, THRESHOLD, weight=3)
g.finish()
