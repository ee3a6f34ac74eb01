import hashlib, os
from tmax_verify import Grader
ROOT, GROUPS, DIGESTS, D = "/app/data/", {{ groups | repr }}, {{ digests | repr }}, {{ difficulty }}
def digest(rel):
    data = Grader.read(ROOT + rel, "rb")
    return None if data is None else hashlib.sha256(data).hexdigest()
def inode(rel):
    return os.stat(ROOT + rel).st_ino if os.path.isfile(ROOT + rel) else None
g = Grader()
g.gate("duplicates.txt exists", g.read("/app/duplicates.txt") is not None)
g.exact_text("report", "/app/duplicates.txt", {{ report | repr }}, weight=3)
dups = {p for grp in GROUPS for p in grp[1:]}
if D == 2:
    ok = [digest(p) is None if p in dups else digest(p) == DIGESTS[p] for p in DIGESTS]
    g.score("duplicates deleted, others intact", sum(ok) / len(ok), weight=2)
if D >= 3:
    ok = [digest(p) == DIGESTS[p] for p in DIGESTS] + [inode(p) is not None and inode(p) == inode(grp[0])
                                                         for grp in GROUPS for p in grp[1:]]
    g.score("duplicates hard-linked, content intact", sum(ok) / len(ok), weight=2)
if D >= 4:
    g.exact_text("reclaimed", "/app/reclaimed.txt", "{{ reclaimed }}\n")
g.finish()
