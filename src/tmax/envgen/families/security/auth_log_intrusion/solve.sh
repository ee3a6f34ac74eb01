mkdir -p /app/report
python3 - <<'PY'
import datetime, glob, gzip, ipaddress, os, re
T, W = {{ threshold }}, {{ window }}
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
rx = re.compile(r"^(\w{3}) +(\d+) (\d\d):(\d\d):(\d\d) \S+ sshd\[\d+\]: (?:message repeated (\d+) times: \[ )?"
                r"(Failed password|Accepted password|Accepted publickey) for (?:invalid user )?(\S+) from (\S+) port ")
fails, accepts = {}, []
for path in glob.glob("/app/logs/auth.log*"):
    text = gzip.open(path, "rt").read() if path.endswith(".gz") else open(path).read()
    for line in text.splitlines():
        m = rx.match(line)
        if not m:
            continue
        t = datetime.datetime(2025, MONTHS.index(m[1]) + 1, int(m[2]), int(m[3]), int(m[4]), int(m[5]))
        if m[7] == "Failed password":
            fails.setdefault(m[9], []).extend([t] * int(m[6] or 1))
        else:
            accepts.append((t, m[9], m[8]))
nets = []
if os.path.exists("/app/allowlist.txt"):
    nets = [ipaddress.ip_network(l.strip()) for l in open("/app/allowlist.txt") if l.strip() and not l.startswith("#")]
brute = set()
for ip, ts in fails.items():
    ts.sort()
    if any(ipaddress.ip_address(ip) in n for n in nets):
        continue
    if any((ts[i + T - 1] - ts[i]).total_seconds() <= W for i in range(len(ts) - T + 1)):
        brute.add(ip)
comp = sorted({(ip, u) for t, ip, u in accepts if ip in brute and t >= fails[ip][0]})
counts = sorted(fails.items(), key=lambda kv: (-len(kv[1]), kv[0]))
open("/app/report/failed_by_ip.txt", "w").write("".join(f"{ip} {len(ts)}\n" for ip, ts in counts))
open("/app/report/bruteforce.txt", "w").write("".join(f"{ip}\n" for ip in sorted(brute)))
open("/app/report/compromised.txt", "w").write("".join(f"{ip} {u}\n" for ip, u in comp))
PY
