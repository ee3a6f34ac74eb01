cat > /app/report/summarize.py <<'PYEOF'
{{ summarize }}PYEOF
python3 /app/report/summarize.py /app/data/orders.jsonl /app/out/summary.txt
