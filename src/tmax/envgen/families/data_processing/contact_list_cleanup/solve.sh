cat > /tmp/contacts.py <<'EOF'
import re
raw = open('/app/contacts_raw.txt', 'rb').read().decode({{ encoding | repr }})
seen, rows, rejects = set(), [], []
for n, line in enumerate(raw.split('\n')[:-1], 1):
    if not line.strip() or line.startswith('#'): continue
    name, email, phone = [p.strip() for p in line.split('|')]
    name, email = ' '.join(name.split()).title(), email.lower()
    digits = re.sub(r'\D', '', phone)
    if len(digits) == 11 and digits[0] == '1': digits = digits[1:]
    if len(digits) != 10 or email.count('@') != 1:
        rejects.append(n); continue
    if email in seen: continue
    seen.add(email)
    rows.append((name, email, f'+1-{digits[:3]}-{digits[3:6]}-{digits[6:]}'))
with open('/app/contacts.csv', 'w') as f:
    f.write('name,email,phone\n' + ''.join(','.join(r) + '\n' for r in sorted(rows, key=lambda r: r[1])))
if {{ rejects }}:
    open('/app/rejects.txt', 'w').write(''.join(f'{n}\n' for n in rejects))
EOF
python3 /tmp/contacts.py
