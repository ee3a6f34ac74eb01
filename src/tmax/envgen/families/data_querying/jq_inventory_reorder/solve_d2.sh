jq -r '[.zones[] | .zone as $z | .bins[] | .bin as $b | .items[] | select(.qty < .reorder_at)
  | {sku, loc: "\($z)/\($b)", s: (.reorder_at - .qty)}] | sort_by(-.s, .sku)[] | "\(.sku) \(.loc) \(.s)"' \
  /app/inventory/*.json > /app/reorder.txt