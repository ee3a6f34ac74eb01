from tmax_verify import Grader
DATA = {{ data | repr }}
g = Grader()
import gzip, os, shutil
ROOT = "/tmp/rotation-check"
g.gate("/app/rotate.sh exists", os.path.isfile("/app/rotate.sh"))
shutil.rmtree(ROOT, ignore_errors=True)
for name, (text, gz, mode) in DATA["initial"].items():
    path = os.path.join(ROOT, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(gzip.compress(text.encode()) if gz else text.encode())
    os.chmod(path, mode)
exits = []
for appends in DATA["rounds"]:
    for name, text in appends.items():
        with open(os.path.join(ROOT, name), "a") as f:
            f.write(text)
    exits.append(g.run(["bash", "/app/rotate.sh", ROOT], timeout=30)[0])
got = {}
for folder, _, names in os.walk(ROOT):
    for name in names:
        path = os.path.join(folder, name)
        raw = open(path, "rb").read()
        try:
            text = (gzip.decompress(raw) if name.endswith(".gz") else raw).decode()
        except (OSError, EOFError, UnicodeDecodeError):
            text = None
        got[os.path.relpath(path, ROOT)] = [text, name.endswith(".gz")]
want = {name: [text, gz] for name, (text, gz, _) in DATA["expected"].items()}
g.check("exits 0 on every run", exits == [0] * len(DATA["rounds"]))
g.check("file names after rotation", sorted(got) == sorted(want), weight=2)
g.score("file contents", sum(got.get(n) == w for n, w in want.items()) / len(want), weight=3)
if DATA["check_modes"]:
    live = [n for n in want if n.endswith(".log") and "/" not in n]
    g.check("new logs keep the old mode", all(os.path.exists(os.path.join(ROOT, n)) and
            os.stat(os.path.join(ROOT, n)).st_mode & 0o777 == DATA["expected"][n][2] for n in live))
g.finish()
