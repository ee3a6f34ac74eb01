cat > /app/rotate.sh <<'EOF'
#!/bin/bash
# rotate.sh DIR: rotate the *.log files directly in DIR
dir=$1 keep={{ keep }} min={{ min_size }} compress={{ compress }}
for f in "$dir"/*.log; do
  [ -f "$f" ] && [ ! -L "$f" ] || continue
  [ "$(stat -c %s "$f")" -ge "$min" ] || continue
  mode=$(stat -c %a "$f")
  rm -f "$f.$keep" "$f.$keep.gz"
  for ((n = keep - 1; n >= 1; n--)); do
    if [ -e "$f.$n.gz" ]; then mv "$f.$n.gz" "$f.$((n + 1)).gz"; fi
    if [ -e "$f.$n" ]; then
      mv "$f.$n" "$f.$((n + 1))"
      if [ "$compress" = delay ]; then gzip -n "$f.$((n + 1))"; fi
    fi
  done
  mv "$f" "$f.1"
  if [ "$compress" = all ]; then gzip -n "$f.1"; fi
  : > "$f"
  chmod "$mode" "$f"
done
exit 0
EOF
chmod 755 /app/rotate.sh
