cd /app
python3 - <<'PY'
import datetime, os, re
FORMATS, NESTED, LOG = {{ formats | repr }}, {{ nested }}, {{ log }}
def target(name):
    for rx in FORMATS:
        m = re.fullmatch(rx, name)
        if m:
            f = {"h": 0, "mi": 0, "s": 0} | {k: int(v) for k, v in m.groupdict().items() if k != "ext"}
            try:
                t = datetime.datetime(f["y"], f["mo"], f["d"], f["h"], f["mi"], f["s"])
            except ValueError:
                return None
            return t.strftime("%Y-%m-%d_%H%M%S") + "." + m["ext"].lower()
paths = sorted(os.path.relpath(os.path.join(d, f), "inbox") for d, _, fs in os.walk("inbox") for f in fs)
seen, lines = {}, []
for old in paths:
    base = target(os.path.basename(old))
    if base is None:
        continue
    if NESTED:
        base = base[:4] + "/" + base[5:7] + "/" + base
    seen[base] = seen.get(base, 0) + 1
    stem, ext = base.rsplit(".", 1)
    new = base if seen[base] == 1 else f"{stem}_{seen[base]}.{ext}"
    os.makedirs(os.path.dirname("sorted/" + new) or "sorted", exist_ok=True)
    os.rename("inbox/" + old, "sorted/" + new)
    lines.append(f"inbox/{old}\tsorted/{new}\n")
if LOG:
    open("rename_log.tsv", "w").write("".join(lines))
PY
