ORIGINAL = {{ original | repr }}
CASES = {{ cases | repr }}
from tmax_verify import Grader
g = Grader()
changed = any(g.read("/app/" + p) != text for p, text in ORIGINAL.items())
g.gate("the project was changed", changed)
g.run("rm -rf /tmp/b && cp -r /app /tmp/b && rm -rf /tmp/b/obj /tmp/b/bin")
code, out, err = g.run("make", cwd="/tmp/b", timeout=120)
g.gate("make builds bin/numtool", code == 0 and g.read("/tmp/b/bin/numtool", "rb") is not None, err[-400:])
for name, (numbers, want) in CASES.items():
    with open("/tmp/" + name, "w") as f:
        f.write(numbers)
    got = g.run(["/tmp/b/bin/numtool", "/tmp/" + name])[1]
    g.check("output on " + name, got.split() == want.split())
g.run("make clean", cwd="/tmp/b")
g.check("make clean", g.run("test ! -e /tmp/b/obj && test ! -e /tmp/b/bin")[0] == 0)
g.finish()
