cd /app/vendor/semverlite
cat > core.py <<'PY'
{{ core }}PY
cat >> __init__.py <<'PY'
{{ imports }}PY
