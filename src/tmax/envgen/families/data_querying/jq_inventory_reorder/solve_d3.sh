jq -s -r '[.[] | .warehouse as $w | .zones[] | .zone as $z | .bins[] | .bin as $b | .items[]
  | {w: $w, sku, loc: "\($z)/\($b)", s: ((.reorder_at // 5) - (.qty // 0))} | select(.s > 0)]
  | sort_by(.w, -.s, .sku)[] | "\(.w) \(.sku) \(.loc) \(.s)"' /app/inventory/*.json > /app/reorder.txt