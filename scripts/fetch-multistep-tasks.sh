#!/usr/bin/env bash
# Public Harbor multi-step tasks ([[steps]], inherit_prior_session, min_reward) written by others,
# fetched from GitHub at pinned commits into $1 (default multi-step-tasks/), for checking tmax's
# multi-step support against tasks it was not built with:
#   tmax run multi-step-tasks/chat-server --agent oracle --sandbox bwrap
# Not for committing: gordonyang-tbench has no license file; hcjackchen-tbench-multiturn is MIT.
# Needs github.com (or TMAX_TASK_MIRROR=DIR with DIR/<owner>+<name>/repo bare mirrors).
set -euo pipefail
OUT=${1:-multi-step-tasks}
mkdir -p "$OUT"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# repo commit task-dir...  (each task dir is a top-level folder of the repo)
fetch() {
  local repo=$1 commit=$2; shift 2
  local gitdir
  if [ -n "${TMAX_TASK_MIRROR:-}" ]; then  # a bare mirror already here
    gitdir="$TMAX_TASK_MIRROR/${repo//\//+}/repo"
  else
    gitdir="$TMP/${repo//\//+}"
    git init -q --bare "$gitdir"
    git --git-dir="$gitdir" fetch -q --depth 1 "https://github.com/$repo" "$commit"
  fi
  for task in "$@"; do
    rm -rf "${OUT:?}/$task"
    git --git-dir="$gitdir" archive "$commit" "$task" | tar -x -C "$OUT"
    echo "== $OUT/$task  ($repo@${commit:0:10})"
  done
}

# Gordon Yang's Harbor tasks (no license file): two-step Go tasks on ubuntu:24.04 (golang-go from
# apt) and a two-step Python task on ECR Public's python:3.11-slim
fetch xdyang1986/gordonyang-tbench b0f1cda845cabf0df92c1f9ce20b6afa0bd94530 \
  chat-server location-accuracy ingestion-batch-stream
# Jack Chen's multi-turn tasks (MIT): three steps on ECR Public's python:3.11-slim, no network
fetch jackchen03/hcjackchen-tbench-multiturn 99633ec6a751c37177bd5bc82ad927eb41b68988 \
  greedy-reranker-diversity-pivot
