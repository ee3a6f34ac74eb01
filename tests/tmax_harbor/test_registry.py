"""`tmax data pull` through Harbor's real registry client (.venv-harbor), offline: a local
registry.json whose tasks are a local dir and a commit of a local git repo (file://), then the
pulled dataset file run by `tmax run`; and the errors when no registry is reachable."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import EXAMPLES, ROOT


def _git_repo(path, task: str) -> str:
    path.mkdir()
    shutil.copytree(EXAMPLES / task, path / task)
    git = ["git", "-C", str(path), "-c", "user.email=t@t", "-c", "user.name=t"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "tasks"]):
        subprocess.run(git + args, check=True)
    return subprocess.run(git + ["rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()


def _tmax(*args: str, cwd, harbor: str, **env) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "TMAX_HARBOR_PYTHON": harbor, "COLUMNS": "200", **env}
    return subprocess.run([sys.executable, "-m", "tmax.cli", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def test_pull_from_a_local_registry_then_run_the_dataset(harbor, rootfs, tmp_path):
    commit = _git_repo(tmp_path / "repo", "log-grep")
    registry = tmp_path / "registry.json"
    registry.write_text(json.dumps([{"name": "mini", "version": "1.0", "description": "two tasks", "tasks": [
        {"name": "csv-summary", "path": str(EXAMPLES / "csv-summary")},
        {"name": "log-grep", "git_url": f"file://{tmp_path / 'repo'}", "git_commit_id": commit, "path": "log-grep"}]}]))
    done = _tmax("data", "pull", "mini@1.0", "--registry-path", str(registry), "-o", "datasets", cwd=tmp_path,
                 harbor=harbor)
    assert done.returncode == 0, done.stdout + done.stderr
    dataset = tmp_path / "datasets" / "mini@1.0.json"
    paths = json.loads(dataset.read_text())
    assert paths == [str(EXAMPLES / "csv-summary"), str(tmp_path / "datasets" / "mini" / "log-grep")]
    assert (tmp_path / "datasets" / "mini" / "log-grep" / "solution" / "solve.sh").is_file()
    ran = _tmax("run", str(dataset), "--agent", "oracle", "--sandbox", "bwrap", "--jobs-dir", "jobs",
                "--job-name", "pulled", cwd=tmp_path, harbor=harbor)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "mean reward 1.000 over 2 trial(s)" in ran.stdout


@pytest.mark.parametrize("how", ["default", "url", "run"])
def test_no_reachable_registry_says_so(harbor, tmp_path, how):
    """Harbor alone answers "Dataset not found" when its registry is down; tmax names the cause,
    for `tmax data pull` and for `tmax run harbor:NAME@VERSION`. HARBOR_SUPABASE_URL points
    Harbor's default registry at a name that never resolves."""
    args = {"default": ["data", "pull", "terminal-bench@2.0"],
            "url": ["data", "pull", "terminal-bench@2.0", "--registry-url", "https://registry.tmax.invalid/r.json"],
            "run": ["run", "harbor:terminal-bench@2.0", "--sandbox", "bwrap"]}[how]
    done = _tmax(*args, cwd=tmp_path, harbor=harbor, HARBOR_SUPABASE_URL="https://harbor-registry.tmax.invalid")
    assert done.returncode != 0
    text = " ".join((done.stdout + done.stderr).split())
    assert "no registry is reachable" in text and ".tmax.invalid" in text and "--registry-path" in text
    assert "Traceback" not in text


def test_unknown_dataset_in_a_local_registry_is_not_found(harbor, tmp_path):
    registry = tmp_path / "registry.json"
    registry.write_text("[]")
    done = _tmax("data", "pull", "nope@1.0", "--registry-path", str(registry), cwd=tmp_path, harbor=harbor)
    text = " ".join((done.stdout + done.stderr).split())
    assert done.returncode != 0 and "nope" in text and "not found" in text and "reachable" not in text
