import json
from tmax_verify import Grader
DATA = {{ data | repr }}
g = Grader()
try:
    got = json.loads(g.read("/app/solutions.json") or "null")
except ValueError:
    got = None
g.gate("solutions.json is a JSON object", isinstance(got, dict))
for pid, want in sorted(DATA["expected"].items()):
    err = None
    try:
        have = got[pid]
        if len(have) == len(want) and all(len(a) == len(b) for a, b in zip(have, want)):
            err = max(abs(float(x) - y) / max(1.0, abs(y)) for a, b in zip(have, want) for x, y in zip(a, b))
    except (KeyError, TypeError, ValueError):
        pass
    g.metric_threshold(pid, err, DATA["tol"], higher_is_better=False)
g.finish()
