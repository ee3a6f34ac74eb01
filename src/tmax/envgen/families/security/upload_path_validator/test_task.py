import os, subprocess
from tmax_verify import Grader
CLEAN, MALICIOUS = {{ clean | repr }}, {{ malicious | repr }}
def accepts(raw):
    try:
        p = subprocess.run(["/app/check_path"], input=raw, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as exc:
        return type(exc).__name__
    return {0: True, 1: False}.get(p.returncode, f"exit {p.returncode}")
g = Grader()
if g.gate("/app/check_path is executable", os.access("/app/check_path", os.X_OK)):
    seen = {x: accepts(x) for x in CLEAN + MALICIOUS}
    g.gate("accepts some clean and rejects some malicious input",
           True in (seen[x] for x in CLEAN) and False in (seen[x] for x in MALICIOUS))
if not g.failed_gates:
    clean = g.corpus("clean paths accepted", lambda x: seen[x], CLEAN, [], weight=1)
    malicious = g.corpus("malicious paths rejected", lambda x: seen[x], [], MALICIOUS, weight=2)
    g.check("every input judged right", clean == malicious == 1.0)
g.finish()
