import os, tempfile
from tmax_verify import Grader
K, RELEASE, FIXED, CHECK = {{ k }}, {{ release | repr }}, {{ fixed | repr }}, {{ check | repr }}
g = Grader()
def git(*args):
    rc, out, _ = g.run(["git", "-C", "/app/project", *args])
    return out if rc == 0 else None
got = g.read("/app/first_bad.txt")
g.gate("first_bad.txt exists", got is not None)
tip = next((l[:40] for l in (git("log", "--all", "--format=%H %s") or "").splitlines() if l[41:] == RELEASE), None)
chain = (git("rev-list", "--reverse", tip) or "").split() if tip else []
g.check("first bad commit", len(chain) > K and (got or "").strip() == chain[K], weight=3)
if {{ difficulty }} >= 4:
    one_on_top = tip is not None and (git("rev-list", "--count", tip + "..main") or "").strip() == "1"
    g.check("one new commit on top of the release", one_on_top)
    tree = {name: git("show", "main:" + name) for name in FIXED}
    g.check("main's files are the release minus the regression", tree == FIXED, weight=2)
    work = tempfile.mkdtemp()
    for name, text in tree.items():
        open(os.path.join(work, name), "w").write(text or "")
    g.check("main computes the right totals", g.run(["python3", "-c", CHECK, work], cwd=work)[0] == 0)
g.finish()
