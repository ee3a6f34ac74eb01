python3 - <<'PYEOF'
import os
import numpy as np
from PIL import Image
PER_COLOUR = {{ per_colour }}
rows = []
for name in sorted(os.listdir("/app/images")):
    px = np.asarray(Image.open(os.path.join("/app/images", name)).convert("RGB")).astype(int)
    fg = px.min(axis=2) < 120
    seen = np.zeros_like(fg)
    counts = {"red": 0, "green": 0, "blue": 0}
    h, w = fg.shape
    for y0, x0 in zip(*np.nonzero(fg)):
        if seen[y0, x0]:
            continue
        seen[y0, x0] = True
        stack, region = [(y0, x0)], []
        while stack:
            y, x = stack.pop()
            region.append((y, x))
            for ny in (y - 1, y, y + 1):
                for nx in (x - 1, x, x + 1):
                    if 0 <= ny < h and 0 <= nx < w and fg[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        stack.append((ny, nx))
        if len(region) >= 20:
            ys, xs = zip(*region)
            mean = px[list(ys), list(xs)].mean(axis=0)
            counts[("red", "green", "blue")[int(mean.argmax())]] += 1
    vals = [counts["red"], counts["green"], counts["blue"]] if PER_COLOUR else [sum(counts.values())]
    rows.append(",".join([name] + [str(v) for v in vals]))
header = "file,red,green,blue" if PER_COLOUR else "file,shapes"
open("/app/counts.csv", "w").write("\n".join([header] + rows) + "\n")
PYEOF
