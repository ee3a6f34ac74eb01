cd /app/logs
{ find . -name '*.log' -exec cat {} + ; find . -name '*.log.gz' -exec zcat {} + ; } \
  | awk '{gsub(/[\[\]]/, "", $3); print $3, $2}' | sort | uniq -c | awk '{print $2, $3, $1}' \
  | LC_ALL=C sort > /app/census.txt
