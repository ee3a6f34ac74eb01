from tmax_verify import Grader
DATA = {{ data | repr }}
g = Grader()
import datetime, os, pwd, re
MONTHS = {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}
DOWS = {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}

def field(spec, lo, hi, names):
    out = set()
    for part in spec.lower().split(","):
        base, slash, step = part.partition("/")
        step = int(step) if slash else 1
        if base == "*":
            a, b = lo, hi
        else:
            first, dash, last = base.partition("-")
            a = names[first] if first in names else int(first)
            b = (names[last] if last in names else int(last)) if dash else (hi if slash else a)
        if step < 1 or not lo <= a <= b <= hi:
            raise ValueError(spec)
        out.update(range(a, b + 1, step))
    return out

def fires(expr):
    f = expr.split()
    mins, hours, doms = field(f[0], 0, 59, {}), field(f[1], 0, 23, {}), field(f[2], 1, 31, {})
    mons, dows = field(f[3], 1, 12, MONTHS), {d % 7 for d in field(f[4], 0, 7, DOWS)}
    either = not (f[2].startswith("*") or f[4].startswith("*"))
    out = set()
    for i in range(365):
        day = datetime.date(2026, 1, 1) + datetime.timedelta(days=i)
        dom_ok, dow_ok = day.day in doms, (day.weekday() + 1) % 7 in dows
        if day.month in mons and ((dom_ok or dow_ok) if either else (dom_ok and dow_ok)):
            out.update(i * 1440 + h * 60 + m for h in hours for m in mins)
    return out

text = g.read(DATA["path"])
g.gate("cron file exists", text is not None)
entries = {}
for line in (text or "").splitlines():
    s = line.strip()
    parts = s.split(None, 6)
    if not s or s.startswith("#") or re.match(r"[A-Za-z_][A-Za-z0-9_]*\s*=", s) or len(parts) < 7:
        continue
    try:
        entries.setdefault((parts[5], " ".join(parts[6].split())), set()).update(fires(" ".join(parts[:5])))
    except (ValueError, KeyError, IndexError):
        pass
for job, (expr, user, cmd) in sorted(DATA["jobs"].items()):
    want, got = fires(expr), entries.get((user, cmd), set())
    g.fuzz_equivalence(f"schedule {job}", lambda x: x in got, lambda x: x in want, sorted(want | got), weight=2)
for user, spec in sorted(DATA["users"].items()):
    try:
        pw = pwd.getpwnam(user)
        ok = not spec or (pw.pw_uid, pw.pw_dir, pw.pw_shell) == tuple(spec)
    except KeyError:
        ok = False
    g.check(f"user {user}", ok)
if DATA["check_mode"]:
    st = os.stat(DATA["path"]) if text is not None else None
    g.check("cron file mode 0644, owned by root", st is not None and st.st_mode & 0o7777 == 0o644 and st.st_uid == 0)
for script in DATA["scripts"]:
    g.check(f"{script} mode 0755", os.path.exists(script) and os.stat(script).st_mode & 0o7777 == 0o755)
g.finish()
