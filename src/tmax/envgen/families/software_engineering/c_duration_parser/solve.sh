cat > /app/duration.c <<'C'
{{ duration_c }}C
make -C /app durparse
