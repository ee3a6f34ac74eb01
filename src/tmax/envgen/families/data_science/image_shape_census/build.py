"""image_shape_census: count filled shapes in generated PNG/PPM images.

Fixture images are drawn with numpy and encoded with Pillow here (deterministic bytes)."""

from __future__ import annotations

import io
import random

import numpy as np
from PIL import Image

from tmax.envgen.bundle import TaskParts
from tmax.envgen.families import family
from tmax.envgen.families.files import FamilyFiles

FILES = FamilyFiles(__file__)

_COLOURS = {"red": (210, 40, 40), "green": (40, 170, 60), "blue": (40, 70, 200)}
_FG_RULE = ("A pixel is *foreground* when at least one of its R, G, B values is below 120; the background "
            "is light (every channel 200 or more). A *shape* is an 8-connected region of foreground pixels "
            "with at least 20 pixels; smaller regions are dust and do not count.")


def _shape_mask(kind: str, cx: int, cy: int, r: int, size: int) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size]
    if kind == "circle":
        return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
    if kind == "box":
        return (abs(xx - cx) <= r) & (abs(yy - cy) <= r * 4 // 5)
    return (yy <= cy + r) & (abs(xx - cx) * 2 <= yy - (cy - r))  # triangle, apex up


def _free(boxes: list, box: tuple, gap: int) -> bool:
    x0, y0, x1, y1 = box
    return all(x1 + gap < a or b + gap < x0 or y1 + gap < c or d + gap < y0 for a, c, b, d in boxes)


def _draw_image(rng: random.Random, difficulty: int, size: int) -> tuple[np.ndarray, dict]:
    noise = np.random.default_rng(rng.getrandbits(64))
    if difficulty >= 3:
        img = noise.integers(205, 256, (size, size, 3)).astype(np.uint8)
    else:
        img = np.full((size, size, 3), 255, np.uint8)
    counts = dict.fromkeys(_COLOURS, 0)
    boxes: list = []
    kinds = ["circle", "box"] + (["triangle"] if difficulty >= 2 else [])
    for _ in range(rng.randint(1, 2 + 2 * difficulty)):
        for _try in range(30):
            r = rng.randint(5, 11)
            cx, cy = rng.randint(r + 2, size - r - 3), rng.randint(r + 2, size - r - 3)
            if _free(boxes, (cx - r, cy - r, cx + r, cy + r), 3):
                break
        else:
            continue
        boxes.append((cx - r, cy - r, cx + r, cy + r))
        name = rng.choice(sorted(_COLOURS))
        jitter = 25 if difficulty >= 3 else 0
        colour = [c + rng.randint(-jitter, jitter) for c in _COLOURS[name]]
        img[_shape_mask(rng.choice(kinds), cx, cy, r, size)] = colour
        counts[name] += 1
    for _ in range(rng.randint(2, 6) if difficulty >= 3 else 0):  # dust: at most 2x2 dark pixels
        x, y = rng.randint(1, size - 3), rng.randint(1, size - 3)
        if _free(boxes, (x, y, x + 1, y + 1), 2):
            boxes.append((x, y, x + 1, y + 1))
            for dx, dy in rng.sample([(0, 0), (0, 1), (1, 0), (1, 1)], rng.randint(1, 4)):
                img[y + dy, x + dx] = (60, 60, 60)
    return img, counts


@family(name="image_shape_census", domain="data_science", skill_type="image_measurement",
        verifier="metric_threshold", fixture="image", language="python",
        skills=("load_images", "threshold_pixels", "connected_components", "classify_by_colour", "write_csv"))
def build(rng: random.Random, difficulty: int) -> TaskParts:
    """Count filled shapes in generated PNG/PPM images (per colour at 4). Knobs: number and size
    of images, shapes per image, triangles (2+), noisy background, colour jitter, dust specks and
    PPM files mixed in (3+), counts per colour (4), and the accuracy threshold 0.7/0.8/0.9/1.0."""
    n_images, size = 6 + 4 * difficulty, 48 + 16 * difficulty
    threshold = {1: 0.7, 2: 0.8, 3: 0.9, 4: 1.0}[difficulty]
    files, expected = {}, {}
    for i in range(n_images):
        img, counts = _draw_image(rng, difficulty, size)
        fmt = "PPM" if difficulty >= 3 and i % 3 == 2 else "PNG"
        name = f"img_{i:03d}.{fmt.lower()}"
        buf = io.BytesIO()
        Image.fromarray(img, "RGB").save(buf, fmt)
        files[f"environment/app/images/{name}"] = buf.getvalue()
        expected[name] = (f"{counts['red']},{counts['green']},{counts['blue']}" if difficulty >= 4
                          else str(sum(counts.values())))
    if difficulty >= 4:
        ask = ("`file,red,green,blue`, then one row per image: its file name and how many shapes of each colour it "
               "holds. A shape's colour is the channel (red, green or blue) with the highest mean over its pixels.")
    else:
        ask = "`file,shapes`, then one row per image: its file name and the number of shapes in it."
    kinds = "PNG and PPM" if difficulty >= 3 else "PNG"
    shapes = "circles, boxes and triangles" if difficulty >= 2 else "circles and boxes"
    instruction = (f"/app/images holds {n_images} {kinds} images with filled {shapes} drawn on a light "
                   f"background. {_FG_RULE}\n\nWrite /app/counts.csv (comma-separated) with the header {ask} Rows "
                   "may come in any order. Accuracy is the share of images whose row is entirely right; full credit "
                   f"needs at least {threshold}, and a lower accuracy earns partial credit in proportion.")
    test = FILES.fill("test_task.py", expected=expected, threshold=threshold)
    return TaskParts(instruction, test, FILES.fill("solve.sh", per_colour=difficulty >= 4), files,
                     knobs={"images": n_images, "size": size, "threshold": threshold, "triangles": difficulty >= 2,
                            "noise_dust_ppm": difficulty >= 3, "per_colour": difficulty >= 4})
