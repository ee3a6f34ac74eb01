from tmax_verify import Grader
DATA = {{ data | repr }}
g = Grader()
text = g.read("/app/tones.csv")
g.gate("tones.csv exists", text is not None)
rows = {}
for line in (text or "").splitlines():
    cells = [c.strip() for c in line.split(",")]
    try:
        rows[cells[0]] = sorted(float(c) for c in cells[1:])
    except ValueError:
        pass
for name, freqs in sorted(DATA["expected"].items()):
    got = rows.get(name)
    err = max(abs(a - b) for a, b in zip(got, freqs)) if got and len(got) == len(freqs) else None
    g.metric_threshold(name, err, DATA["tol"], higher_is_better=False)
g.finish()
