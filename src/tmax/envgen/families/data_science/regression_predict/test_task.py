TRUTH = {{ truth | repr }}
RMSE_MAX = 0.3
SPREAD = {{ spread | repr }}
import csv
import math
from tmax_verify import Grader
g = Grader()
text = g.read("/app/predictions.csv")
g.gate("predictions.csv exists", text is not None)
pred = {}
for row in csv.DictReader((text or "").splitlines()):
    try:
        pred[row["id"].strip()] = float(row["y"])
    except (KeyError, TypeError, ValueError, AttributeError):
        pass
rmse = None
if all(i in pred and math.isfinite(pred[i]) for i in TRUTH):
    rmse = math.sqrt(sum((pred[i] - v) ** 2 for i, v in TRUTH.items()) / len(TRUTH))
g.metric_threshold("rmse", rmse, RMSE_MAX, higher_is_better=False, weight=3)
g.metric_threshold("rmse below half the spread", rmse, SPREAD / 2, higher_is_better=False, weight=1)
g.finish()
