{{ write }}cd /app/project
git bisect start main "$(git rev-list --max-parents=0 main)"
git bisect run {{ script }} > /tmp/bisect.log 2>&1 || { cat /tmp/bisect.log; exit 1; }
bad=$(grep -oE '^[0-9a-f]{40} is the first bad commit' /tmp/bisect.log | cut -c1-40)
git bisect reset > /dev/null
echo "$bad" > /app/first_bad.txt
{{ revert }}