"""Experiment tracking: trackio really logging to a local dir (in a fresh process, since trackio
fixes its database dir when first imported)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytest.importorskip("trackio")

SCRIPT = """
import json, sys
from pathlib import Path
from tmax.training.tracking import TrackingConfig, open_tracker

run_dir = Path(sys.argv[1])
tracker = open_tracker(TrackingConfig(backend="trackio", project="proj", name="rl", group="seed-0"), run_dir,
                       {"lr": 1e-4})
for step in (1, 2, 3):
    tracker.log({"rl/reward": step / 4, "rl/note": "text is skipped", "rl/n_groups": step}, step)
tracker.close()
from trackio.sqlite_storage import SQLiteStorage
print(json.dumps(SQLiteStorage.get_logs("proj", "rl")))
"""


def test_trackio_tracker_logs_scalars_to_the_run_dir(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TRACKIO_DIR"}
    env["PYTHONPATH"] = str(ROOT / "src")
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "run")], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    logs = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("[")))
    assert [(row["step"], row["rl/reward"], row["rl/n_groups"]) for row in logs] == [(1, 0.25, 1), (2, 0.5, 2),
                                                                                  (3, 0.75, 3)]
    assert all("rl/note" not in row for row in logs)
    assert (tmp_path / "run" / "trackio" / "proj.db").exists()  # the default dir: <run_dir>/trackio
