from tmax_verify import Grader, normalize
DATA = {{ data | repr }}
g = Grader()
text = g.read(DATA["path"])
g.gate("output exists", text is not None)
lines = normalize(text or "").split("\n")
want = normalize(DATA["expected"]).split("\n")
g.exact_text("exact file", DATA["path"], DATA["expected"], weight=3)
g.check("header", lines[0] == want[0])
g.score("rows present", sum(1 for r in want[1:] if r in set(lines[1:])) / max(1, len(want) - 1))
{{ extra }}
g.finish()
