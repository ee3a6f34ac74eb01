jq -r '.zones[].bins[].items[] | select(.qty < .reorder_at) | "\(.sku) \(.qty)"' /app/inventory/*.json \
  | LC_ALL=C sort > /app/reorder.txt