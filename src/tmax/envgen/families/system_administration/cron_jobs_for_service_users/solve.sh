{{ useradds }}cat > {{ cron_file }} <<'EOF'
SHELL=/bin/sh
{{ table }}EOF
chmod 0644 {{ cron_file }}
{{ script_modes }}