import json
from tmax_verify import Grader
EXPECTED = {{ expected | repr }}
g = Grader()
try:
    got = json.loads(g.read("/app/findings.json") or "")
except ValueError:
    got = None
if not g.gate("findings.json is a JSON object", isinstance(got, dict)):
    got = {}
for field, want in EXPECTED.items():
    g.check(field, got.get(field) == want, weight=2 if field in ("passphrase", "flag") else 1,
            detail=f"got {got.get(field)!r}")
g.finish()
