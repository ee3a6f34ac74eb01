ORIGINAL = {{ original | repr }}
EXPECTED = {{ expected | ascii }}
from tmax_verify import Grader
g = Grader()
src = g.read("/app/report/summarize.py")
g.gate("summarize.py was changed", src is not None and src != ORIGINAL)
g.exact_text("summary.txt", "/app/out/summary.txt", EXPECTED["orders.jsonl"][1])
for name, (text, want) in EXPECTED.items():
    with open("/tmp/" + name, "w", encoding="utf-8") as f:
        f.write(text)
    code, _, err = g.run(["python3", "/app/report/summarize.py", "/tmp/" + name, "/tmp/" + name + ".out"])
    got = g.read("/tmp/" + name + ".out")
    g.check("run on " + name, code == 0 and got is not None and got.strip() == want.strip(), detail=err[-300:])
g.finish()
