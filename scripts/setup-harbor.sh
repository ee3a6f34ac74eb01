#!/usr/bin/env bash
# Harbor (the `harbor` package on PyPI) in a venv of its own, .venv-harbor (or the path given as
# $1), with this checkout of tmax installed there too (editable, core + the `harbor` extra: no
# torch), so `harbor run -e tmax.harbor:Bwrap -a tmax.harbor:TmaxAgent` and `tmax data pull` work.
# tmax runs on Python 3.11; harbor needs Python >= 3.12, so the interop tests
# (tests/harbor_support.py, tests/tmax_harbor/) run Harbor there as a subprocess.
# `scripts/setup.sh` runs this; it does nothing when the venv already imports harbor and tmax's plugins.
#
# Python >= 3.12 is found as $HARBOR_PYTHON, python3.13 / python3.12 on PATH, or a pyenv
# version; failing those, `uv python install 3.12` (uv from PyPI into a scratch venv; uv
# downloads its Python builds from GitHub, so that fallback needs access to github.com).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-.venv-harbor}
SPEC=${TMAX_HARBOR_SPEC:-harbor==0.25.0}
install_tmax() {
  echo "== installing tmax (editable, core + harbor extra) into $VENV"
  "$VENV/bin/python" -m pip install -q -e ".[harbor]" "$SPEC"
  PYTHONPATH= "$VENV/bin/python" -c "import tmax.harbor.environment, tmax.harbor.agent" \
    || { echo "tmax's Harbor plugins do not import in $VENV" >&2; exit 1; }
  if "$VENV/bin/python" -c "import torch" 2>/dev/null; then
    echo "warning: torch is installed in $VENV; tmax's Harbor plugins do not need it" >&2
  fi
}
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import harbor" 2>/dev/null; then
  if "$VENV/bin/python" -c "import tmax.harbor.environment, tmax.harbor.agent" 2>/dev/null; then
    echo "== $VENV already has harbor and tmax"; exit 0
  fi
  install_tmax; exit 0
fi
new_enough() { "$1" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; }
PY=""
for cand in "${HARBOR_PYTHON:-}" python3.13 python3.12 \
    $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python 2>/dev/null | sort -rV); do
  [ -n "$cand" ] && command -v "$cand" >/dev/null 2>&1 && new_enough "$cand" && { PY=$cand; break; }
done
if [ -z "$PY" ]; then
  echo "== no Python >= 3.12 found: installing one with uv"
  BOOT=$(mktemp -d)
  python3 -m venv "$BOOT" && "$BOOT/bin/pip" install -q uv
  "$BOOT/bin/uv" python install 3.12
  PY=$("$BOOT/bin/uv" python find 3.12)
fi
echo "== creating $VENV with $("$PY" --version) ($PY) and installing $SPEC"
rm -rf "$VENV"
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip >/dev/null 2>&1 || true
"$VENV/bin/pip" install -q "$SPEC"
install_tmax
"$VENV/bin/python" -c "import importlib.metadata as m; print('harbor', m.version('harbor'), 'tmax', m.version('tmax'))"
