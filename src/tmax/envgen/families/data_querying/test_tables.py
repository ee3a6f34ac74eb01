EXPECTED = {{ expected | repr }}
from tmax_verify import Grader, normalize
g = Grader()
g.gate("an answer file exists", any(g.read(p) is not None for p in EXPECTED))
for path, want in EXPECTED.items():
    got = g.read(path)
    want_rows = normalize(want).split("\n")
    have_rows = normalize(got).split("\n") if got is not None else []
    common = len(set(want_rows) & set(have_rows))
    g.score(path + " rows", common / max(len(want_rows), len(have_rows)), weight=1)
    g.exact_text(path, path, want, weight=2)
g.finish()
