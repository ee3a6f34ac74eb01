cd /app
cat > /app/check_path <<'PY'
#!/usr/bin/env python3
import sys
{{ params }}

{{ validator }}
sys.exit(0 if accepts(sys.stdin.buffer.read()) else 1)
PY
chmod +x /app/check_path
