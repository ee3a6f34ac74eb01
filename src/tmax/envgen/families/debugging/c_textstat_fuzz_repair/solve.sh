cat > /app/src/textstat.c <<'CEOF'
{{ textstat_c }}CEOF
