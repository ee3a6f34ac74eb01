cat > /tmp/fw.py <<'EOF'
import csv, glob, sys
layout = [l.split() for l in open('/app/layout.txt') if l.strip() and not l.startswith('#')]
PREFIX, SORT = {{ prefix }}, {{ sort }}
def conv(raw, kind):
    raw = raw.strip()
    if kind == 'int': return str(int(raw))
    if kind == 'date': return f'{raw[:4]}-{raw[4:6]}-{raw[6:]}'
    if kind in ('cents', 'signed_cents'):
        neg = raw.startswith('-'); c = int(raw.lstrip('+-'))
        return f"{'-' if neg else ''}{c // 100}.{c % 100:02d}"
    return raw
rows = []
for path in sorted(glob.glob('/app/data/*.dat')):
    for line in open(path, newline=''):
        line = line.rstrip('\r\n')
        if PREFIX and not line.startswith('D'): continue
        width = max(int(s) + int(w) for _, s, w, _ in layout)
        line = line.ljust(width)
        rows.append([conv(line[int(s) - 1:int(s) - 1 + int(w)], k) for _, s, w, k in layout])
names = [n for n, *_ in layout]
if SORT:
    rows.sort(key=lambda r: (r[names.index('booked')], int(r[names.index('txn_id')])))
w = csv.writer(open('/app/ledger.csv', 'w', newline=''), lineterminator='\n')
w.writerow(names); w.writerows(rows)
EOF
python3 /tmp/fw.py
