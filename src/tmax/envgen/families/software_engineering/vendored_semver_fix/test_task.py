import sys
sys.path.insert(0, "/app/vendor")
from tmax_verify import Grader
CASES = {{ cases | repr }}
g = Grader()
try:
    import semverlite
except Exception as exc:
    semverlite = None
    print("import failed:", exc)
def call(case):
    fn, args = case[:2]
    return getattr(semverlite, fn)(*args)
def right(case):
    try:
        return call(case) == case[2]
    except Exception:
        return False
fixes = [n for n in CASES if n.startswith("fixed") or n in ("max_satisfying", "bump")]
g.gate("semverlite imports and a shipped defect is gone", any(right(c) for n in CASES for c in CASES[n] if c[3]))
for name, cases in CASES.items():
    g.fuzz_equivalence(name, call, lambda c: c[2], cases, weight=2 if name in fixes else 1)
g.finish()
