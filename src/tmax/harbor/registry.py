"""Datasets from Harbor's registry: ``tmax data pull NAME@VERSION`` (and ``tmax eval harbor:NAME@VERSION``).

Harbor (Python >= 3.12) lives in a venv of its own, so tmax runs its registry client there as a
subprocess (``registry_script.py``, which imports only ``harbor``). Registries: Harbor's default
one, ``--registry-url`` (a registry.json over HTTP), ``--registry-path`` (a local registry.json:
tasks as local paths, or git repos at a commit, ``file://`` ones included) and ``--repo`` (a git
repo with a registry). The tasks land in ``OUT/NAME/`` (local-path tasks stay where they are), and
``OUT/NAME@VERSION.json`` lists every task dir: a dataset file ``tmax eval``/``tmax run`` read.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tmax.errors import ConfigError, InfraError

HOW = ("run `bash scripts/setup-harbor.sh` (makes .venv-harbor with harbor and tmax), or set "
       "TMAX_HARBOR_PYTHON to a Python >= 3.12 that has the harbor package")
SCRIPT = Path(__file__).with_name("registry_script.py")


def harbor_python() -> str:
    """$TMAX_HARBOR_PYTHON, else .venv-harbor in the current dir or in tmax's checkout."""
    candidates = [os.environ.get("TMAX_HARBOR_PYTHON"), str(Path.cwd() / ".venv-harbor" / "bin" / "python"),
                  str(Path(__file__).resolve().parents[3] / ".venv-harbor" / "bin" / "python")]
    for python in filter(None, candidates):
        if Path(python).exists():
            return python
    raise ConfigError("Harbor's Python was not found", where="tmax data pull", fix=HOW)


@dataclass
class PulledDataset:
    name: str
    version: str | None
    tasks: list[dict]
    dataset_file: Path


def split_ref(ref: str) -> tuple[str, str | None]:
    name, _, version = ref.partition("@")
    if not name:
        raise ConfigError(f"no dataset name in {ref!r}", where="NAME@VERSION", fix="e.g. terminal-bench@2.0")
    return name, version or None


def pull(ref: str, out: Path, *, registry_path: Path | None = None, registry_url: str | None = None,
         repo: str | None = None, overwrite: bool = False, timeout: float = 3600) -> PulledDataset:
    """Download dataset ``ref`` (NAME@VERSION) through Harbor's registry client into ``out``."""
    name, version = split_ref(ref)
    if registry_path is not None and not Path(registry_path).exists():
        raise ConfigError(f"{registry_path} does not exist", where="--registry-path",
                          fix="pass a registry.json (a list of datasets) or the folder holding one")
    cmd = [harbor_python(), str(SCRIPT), name, "--out", str(out)]
    for flag, value in (("--version", version), ("--registry-path", registry_path), ("--registry-url", registry_url),
                        ("--repo", repo)):
        if value is not None:
            cmd += [flag, str(Path(value).resolve()) if flag == "--registry-path" else str(value)]
    if overwrite:
        cmd.append("--overwrite")
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    lines = done.stdout.strip().splitlines()
    try:
        answer = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        raise InfraError(f"Harbor's registry client failed: {(done.stderr or done.stdout)[-1500:]}",
                         where=" ".join(cmd[:2]), fix=HOW) from None
    where = f"tmax data pull {ref}"
    if answer.get("kind") == "unreachable":
        raise InfraError(answer["error"], where=where,
                         fix="connect to the network, or pull from a local registry: --registry-path registry.json")
    if "error" in answer:
        raise ConfigError(answer["error"], where=where,
                          fix="check the name and version (`harbor datasets list`), or the registry you passed")
    out.mkdir(parents=True, exist_ok=True)
    dataset_file = out / f"{name.split('/')[-1]}@{version or 'latest'}.json"
    dataset_file.write_text(json.dumps([t["path"] for t in answer["tasks"]], indent=1) + "\n")
    return PulledDataset(name, version, answer["tasks"], dataset_file)
