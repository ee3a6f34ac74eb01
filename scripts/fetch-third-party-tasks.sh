#!/usr/bin/env bash
# Public Harbor (Terminal-Bench 2 layout) tasks written by others, fetched from GitHub at pinned
# commits into $1 (default third-party-tasks/), for checking tmax against tasks it was not built
# with: `tmax run third-party-tasks/single --agent oracle --sandbox bwrap` and
# `harbor run -p third-party-tasks/single -a oracle -e tmax.harbor:Bwrap`.
# They are not committed to tmax (most carry no license); this needs access to github.com, which
# CI does not have, so no test depends on them. docs/harbor.md has the measured results.
set -euo pipefail
OUT=${1:-third-party-tasks}
mkdir -p "$OUT/single" "$OUT/multi"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# repo commit [subdir-in-repo dest-name]...  (no subdir: the repo root is the task)
fetch() {
  local repo=$1 commit=$2; shift 2
  local dir="$TMP/${repo//\//+}"
  if [ ! -d "$dir" ]; then
    git init -q "$dir"
    git -C "$dir" fetch -q --depth 1 "https://github.com/$repo" "$commit"
  fi
  while [ $# -gt 0 ]; do
    local sub=$1 dest=$2; shift 2
    rm -rf "$OUT/$dest" && mkdir -p "$OUT/$dest"
    if [ "$sub" = . ]; then
      git -C "$dir" archive FETCH_HEAD | tar -x -C "$OUT/$dest"
    else
      git -C "$dir" archive FETCH_HEAD "$sub" | tar -x -C "$OUT/$dest" --strip-components="$(tr -cd / <<<"$sub/" | wc -c)"
    fi
    echo "== $OUT/$dest  ($repo@${commit:0:10} $sub)"
  done
}

# Harbor's own cookbook (Apache-2.0)
R=harbor_cookbook/recipes
fetch harbor-framework/harbor-cookbook e093c9a860b988d9d74901010ddddb9c7f124f92 \
  $R/simple-task single/cookbook-simple-task  $R/skills single/cookbook-skills \
  $R/multi-reward single/cookbook-multi-reward  $R/dns-blacklisting single/cookbook-dns-blacklisting \
  $R/multi-step multi/cookbook-multi-step
# single tasks in repos of their own (no license file: fetch, do not redistribute)
fetch AbdulGhaffarcs/sha256 e52bcfc6befff1c7097b49cc6eab490fe16285d5 . single/sha256
fetch AyliD/sql-query-optimizer a1fb8c4fc9f16ccb2380469ee606ee57d0941a4e . single/sql-query-optimizer
fetch Amol07/reconcile-batch-task ee4b6c0493ee3ca7689836151941e38869ad0610 . single/reconcile-batch-task
fetch SadiqIbrahim-lab/settlement-recon-duplicates ffdadd597dbef198e7e99f4ea5c640b9587935ce . single/settlement-recon-duplicates
fetch GavinNyamboga/secure-archive-extraction 30f3a7b7157e3678f05babd192ef6ad9967ae554 . single/secure-archive-extraction
fetch ShivamGairola2577/json-transform-harbor-task 5592c4424782a882b1ab7e5f890354d23dd29951 . single/json-transform-harbor-task
fetch McIkenna/python-csv-ingester 021a5f7494b7123378be49ce48de4b519e82fc94 . single/python-csv-ingester
fetch Jateloz/kenken-task 6fc13e2a06627a3b4269e157b4cd3620b4629643 . single/kenken-task
