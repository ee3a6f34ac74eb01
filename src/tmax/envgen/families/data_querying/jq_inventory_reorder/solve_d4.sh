jq -n -r --slurpfile cat /app/catalog.json '
  [inputs | .. | objects | select(has("items")) | .items[]] as $items | $cat[0] | to_entries
  | map(select(.value.discontinued | not) | .key as $k | .value.reorder_at as $r
  | ([$items[] | select(.sku == $k) | (.qty // 0)] | add // 0) as $t | {sku: $k, t: $t, r: $r, s: ($r - $t)})
  | map(select(.s > 0)) | sort_by(-.s, .sku)[] | "\(.sku) \(.t) \(.r) \(.s)"' /app/inventory/*.json \
  > /app/reorder.txt