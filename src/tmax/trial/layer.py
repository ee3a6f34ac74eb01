"""The verifier layer: what makes Harbor verifiers run offline.

Terminal-Bench 2 verifiers typically ``apt-get install curl``, fetch the uv installer with
curl, then ``uvx -w pytest==8.4.1 -w pytest-json-ctrf==0.3.5 pytest ...``. Without a network
every step fails. tmax uploads a small layer to ``/opt/tmax-verifier`` before running
``test.sh`` and puts its ``bin/`` first on PATH:

- ``site/``: pytest, pytest-json-ctrf and their pure-Python dependencies, unpacked from
  wheels downloaded once on the host (``tmax images bootstrap``).
- ``bin/uvx``, ``bin/uv``: stand-ins that run the tool with the image's python3 and ``site/``.
- ``bin/curl``: serves a local installer for the uv install URL; otherwise the real curl.
- ``bin/apt-get``: the real apt-get; offline, ``update`` passes and ``install`` passes when the
  packages are already present.
- ``bin/pytest``: pytest from ``site/``.
- ``bin/pip``, ``bin/pip3``: offline, ``pip install`` of packages in ``site/`` (Terminal-Bench 1
  tests install pytest this way) succeeds and makes ``site/`` importable through a ``.pth``
  file in the user site (``PYTHONUSERBASE``); anything else goes to the real pip.

Version pins in test scripts are ignored (the layer has one version of each package); the
trial's ``verifier/test-stdout.txt`` shows the stand-ins' notes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tmax.errors import InfraError
from tmax.sandbox.base import cache_dir

LAYER_PATH = "/opt/tmax-verifier"
PACKAGES = ["pytest==8.4.1", "pytest-json-ctrf==0.3.5", "pluggy", "iniconfig", "packaging", "pygments",
            "exceptiongroup", "typing_extensions"]
PURE_PACKAGES = ["tomli"]  # needed by pytest on Python < 3.11; fetch the pure-Python wheel
SHIMS = Path(__file__).parent / "shims"


def layer_dir() -> Path:
    return cache_dir() / "verifier"


def verifier_env() -> dict[str, str]:
    """Environment for test.sh: the layer's bin first on PATH."""
    return {"PATH": f"{LAYER_PATH}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "PYTHONUSERBASE": f"{LAYER_PATH}/user"}  # where the pip stand-in makes the layer importable


def _download(dest: Path) -> None:
    base = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "-d", str(dest)]
    runs = [base + PACKAGES,
            base + ["--platform", "any", "--implementation", "py", "--abi", "none", "--python-version", "3.9",
                    *PURE_PACKAGES]]
    for cmd in runs:
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise InfraError(f"could not download verifier packages: {proc.stderr.strip()[-1500:]}",
                               where="tmax images bootstrap",
                               fix="check that PyPI is reachable (pip config, proxy, PIP_CERT)")


_READY: set[Path] = set()


def prepare_layer(*, force: bool = False) -> Path:
    """Build the layer in the cache once: shims plus unpacked verifier packages."""
    root = layer_dir()
    if root in _READY and not force:
        return root
    if (root / ".complete").exists() and not force:
        _copy_shims(root)  # once per process: keeps the shims in step with the installed tmax
        _READY.add(root)
        return root
    tmp = root.with_name("verifier.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    wheels = tmp / "wheels"
    wheels.mkdir(parents=True)
    _download(wheels)
    for wheel in sorted(wheels.glob("*.whl")):
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(tmp / "site")
    shutil.rmtree(wheels)
    _copy_shims(tmp)
    (tmp / ".complete").touch()
    shutil.rmtree(root, ignore_errors=True)
    tmp.rename(root)
    _READY.add(root)
    return root


def _copy_shims(root: Path) -> None:
    (root / "bin").mkdir(parents=True, exist_ok=True)
    for shim in SHIMS.iterdir():
        if shim.name == "uv-install.sh":
            shutil.copy2(shim, root / shim.name)
        elif shim.is_file():
            shutil.copy2(shim, root / "bin" / shim.name)
            (root / "bin" / shim.name).chmod(0o755)
