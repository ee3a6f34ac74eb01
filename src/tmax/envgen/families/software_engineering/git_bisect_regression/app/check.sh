#!/bin/bash
cd /app/project && python3 - <<'PY'
{{ check }}PY
