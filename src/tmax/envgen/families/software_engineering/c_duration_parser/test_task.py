from tmax_verify import Grader
EXPECTED, GROUPS = {{ expected | repr }}, {{ groups | repr }}
g = Grader()
rc, _, err = g.run("make -C /app -B durparse", timeout=120)
open("/tmp/durations.txt", "w").write("".join(x + "\n" for x in EXPECTED))
code, out, _ = g.run("/app/durparse < /tmp/durations.txt", timeout=60) if rc == 0 else (1, "", "")
got = dict(zip(EXPECTED, out.split("\n")))
g.gate("durparse builds and parses a valid duration", any(got.get(x) == EXPECTED[x] for x in GROUPS["valid durations"]),
       err[-500:])
weights = {"valid durations": 3, "errors": 2, "overflows": 1, "ISO 8601 durations": 2}
for name, xs in GROUPS.items():
    g.fuzz_equivalence(name, got.get, EXPECTED.get, xs, weight=weights[name])
g.finish()
