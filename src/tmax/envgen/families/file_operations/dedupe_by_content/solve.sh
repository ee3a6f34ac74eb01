cd /app
python3 - <<'PY'
import hashlib, os
D, root, by = {{ difficulty }}, "/app/data", {}
for dirpath, _, names in os.walk(root):
    for name in names:
        path = os.path.join(dirpath, name)
        if D >= 4 and os.path.getsize(path) == 0:
            continue
        key = hashlib.sha256(open(path, "rb").read()).hexdigest()
        by.setdefault(key, []).append(os.path.relpath(path, root))
groups = sorted(sorted(v) for v in by.values() if len(v) > 1)
open("/app/duplicates.txt", "w").write("".join(" ".join(g) + "\n" for g in groups))
saved = 0
for first, *rest in groups:
    for rel in rest:
        saved += os.path.getsize(os.path.join(root, rel))
        os.remove(os.path.join(root, rel))
        if D >= 3:
            os.link(os.path.join(root, first), os.path.join(root, rel))
if D >= 4:
    open("/app/reclaimed.txt", "w").write(f"{saved}\n")
PY
