"""Making a task image's rootfs for bwrap: the base rootfs plus the image's diff
(``tmax.sandbox.layered``) against the whole ``podman export`` with links back to the base
(the fallback), on the same images, interleaved, one run.

Each image is a starter task's: the base plus a few fixture files, as the tiny recipe builds
24 of on a fresh machine.

Usage: .venv/bin/python benchmarks/rootfs.py [--images 4] [--reps 2]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from tmax.sandbox import images, layered
from tmax.sandbox.container_cli import engine_argv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--reps", type=int, default=2)
    args = parser.parse_args()
    if not layered._marker(images.base_rootfs()).is_file():
        raise SystemExit("the base rootfs has no import marker: run `tmax images bootstrap --force` first")
    work = Path(tempfile.mkdtemp(prefix="tmax-bench-rootfs-", dir=images.base_rootfs().parent))
    tags = []
    for i in range(args.images):
        ctx = work / f"ctx{i}"
        (ctx / "app" / "secret").mkdir(parents=True)
        for j in range(4):
            (ctx / "app" / "secret" / f"f{j}.txt").write_text(f"word{i}-{j}\n")
        (ctx / "Dockerfile").write_text(f"FROM {images.BASE_IMAGE}\nWORKDIR /app\nCOPY app/ /app/\n")
        tags.append(images.build_image(f"bench-rootfs-{i}", ctx / "Dockerfile", ctx).tag)
    base_id = images.image_field(images.BASE_IMAGE, "{{.Id}}")
    times: dict[str, list[float]] = {"export": [], "base+diff": []}
    try:
        for rep in range(args.reps):
            for i, tag in enumerate(tags):
                for name in times:
                    dest = work / f"{name}-{rep}-{i}"
                    started = time.perf_counter()
                    if name == "export":
                        images.export_whole(tag, "podman", dest)
                    elif not layered.rootfs_from_base(tag, images.BASE_IMAGE, base_id, images.base_rootfs(), dest):
                        raise SystemExit(f"{tag}: the base+diff path declined this image")
                    times[name].append(time.perf_counter() - started)
                    shutil.rmtree(dest)
    finally:
        for tag in tags:
            subprocess.run([*engine_argv("podman"), "rmi", "-f", tag], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    for name, values in times.items():
        print(f"{name:10s} median {statistics.median(values):6.2f} s per image  (n={len(values)})")
    ratio = statistics.median(times["export"]) / statistics.median(times["base+diff"])
    print(f"base+diff is {ratio:.1f}x faster than export + dedupe")


if __name__ == "__main__":
    main()
