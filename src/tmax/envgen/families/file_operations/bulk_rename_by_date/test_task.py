import os
from tmax_verify import Grader
INBOX, PLAN, KEEP = {{ inbox | repr }}, {{ plan | repr }}, {{ keep | repr }}
def content(path):
    return Grader.read(path)
g = Grader()
found = sorted(os.path.relpath(os.path.join(d, f), "/app/sorted") for d, _, fs in os.walk("/app/sorted") for f in fs)
g.gate("/app/sorted has files", bool(found))
ok = [content("/app/sorted/" + new) == INBOX[old] and content("/app/inbox/" + old) is None for old, new in PLAN.items()]
g.score("files moved to their new names", sum(ok) / len(ok), weight=3)
g.check("nothing else in /app/sorted", found == sorted(PLAN.values()))
if KEEP:
    g.check("non-matching files left alone", all(content("/app/inbox/" + p) == t for p, t in KEEP.items()))
if {{ difficulty }} >= 4:
    g.exact_text("rename log", "/app/rename_log.tsv", {{ log | repr }})
g.finish()
