"""auth_log_intrusion: find SSH brute-force sources and the logins they won in sshd auth logs."""

from __future__ import annotations

import gzip
import random
from datetime import datetime, timedelta

from tmax.envgen.bundle import TaskParts
from tmax.envgen.families import family
from tmax.envgen.families.files import FamilyFiles

FILES = FamilyFiles(__file__)

_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_ATTACK_USERS = ["root", "admin", "test", "oracle", "ubuntu", "pi", "guest", "postgres", "git"]
_STAFF = ["alice", "bob", "carol", "deploy", "backup", "dana"]


def _burst(rng: random.Random, ip: str, t0: datetime, n: int, gap, repeat: bool) -> tuple[list, datetime]:
    """n failed attempts from ip starting at t0, ``gap()`` seconds apart; with ``repeat`` some
    consecutive attempts are folded into one `message repeated` event."""
    events, t, i = [], t0, 0
    while i < n:
        user = rng.choice(_ATTACK_USERS + _STAFF[:2])
        kind = "fail" if user in ("root", "alice", "bob") else "fail_inv"
        fold = min(rng.randint(2, 4), n - i) if repeat and rng.random() < 0.3 else 1
        if kind == "fail_inv":
            events.append((t, ip, "invalid", user, 1))
        events.append((t, ip, kind, user, fold))
        i += fold
        t += timedelta(seconds=gap())
    events.append((t, ip, "closed", "", 1))
    return events, t


def _attack(rng: random.Random, ip: str, t0: datetime, kind: int, difficulty: int, T: int, W: int) -> list:
    """One source's attempts: kind 0 a fast burst (T or more within W seconds), 1 too few (T - 1),
    2 too slow (consecutive attempts more than W / (T - 1) apart). From difficulty 3 on there is
    often an accepted login from the same address, mostly after the burst, sometimes before it."""
    n = T - 1 if kind == 1 else T + rng.randint(0, 6)

    def gap() -> int:
        return W // (T - 1) + rng.randint(1, 30) if kind == 2 else rng.randint(1, max(1, W // (n + 1)))
    events, end = _burst(rng, ip, t0, n, gap, repeat=difficulty >= 4)
    if difficulty >= 3 and rng.random() < 0.6:
        if rng.random() < 0.7:
            when = end + timedelta(minutes=rng.randint(1, 90))
        else:
            when = t0 - timedelta(minutes=rng.randint(5, 60))
        user = rng.choice(_ATTACK_USERS[:3] + _STAFF)
        events.append((when, ip, rng.choice(["acc_pw", "acc_pw", "acc_key"]), user, 1))
    return events


def _auth_events(rng: random.Random, difficulty: int, T: int, W: int) -> tuple[list, list]:
    """(events sorted by time, allowlist); an event is (time, ip, kind, user, count)."""
    if difficulty >= 4:  # the log crosses a month boundary
        start = datetime(2025, rng.randint(2, 12), 1) - timedelta(hours=rng.randint(8, 20))
    else:
        start = datetime(2025, rng.randint(1, 12), rng.randint(1, 20))

    def at() -> datetime:
        return start + timedelta(seconds=rng.randint(0, 36 * 3600))

    def octets(first: int) -> str:
        return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    events = []
    for _ in range(6 + 6 * difficulty):  # staff logins, sometimes after a typo or two
        t, ip, user = at(), f"10.0.{rng.randint(0, 9)}.{rng.randint(2, 250)}", rng.choice(_STAFF)
        events += [(t - timedelta(seconds=20 * k), ip, "fail", user, 1) for k in range(1, rng.choice([1, 1, 2, 3]))]
        events.append((t, ip, rng.choice(["acc_pw", "acc_key"]), user, 1))
    ips = [f"2001:db8:{rng.randint(1, 0xffff):x}::{rng.randint(1, 0xfff):x}" if difficulty >= 4 and i % 3 == 0
           else octets(rng.choice([203, 198, 45, 91, 185])) for i in range(3 + 3 * difficulty)]
    allow = ["198.18.0.0/15", "10.250.3.7"] if difficulty >= 4 else []
    if allow:  # two of the sources are trusted scanners
        ips[:2] = [f"198.{rng.randint(18, 19)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}", "10.250.3.7"]
    for i, ip in enumerate(ips):
        events += _attack(rng, ip, at(), i % 3 if difficulty >= 2 else 0, difficulty, T, W)
    events += [(at(), "", "cron", "root", 1) for _ in range(5 * difficulty)]
    events += [(at(), "", "sudo", rng.choice(_STAFF), 1) for _ in range(2 * difficulty if difficulty >= 2 else 0)]
    return sorted(events, key=lambda e: e[0]), allow


def _auth_line(rng: random.Random, event) -> str:
    t, ip, kind, user, n = event
    port, pid = rng.randint(1024, 65535), rng.randint(300, 60000)
    stamp = f"{_MONTHS[t.month - 1]} {t.day:2d} {t:%H:%M:%S} gw01"
    msg = {"fail": f"Failed password for {user} from {ip} port {port} ssh2",
           "fail_inv": f"Failed password for invalid user {user} from {ip} port {port} ssh2",
           "acc_pw": f"Accepted password for {user} from {ip} port {port} ssh2",
           "acc_key": f"Accepted publickey for {user} from {ip} port {port} ssh2: ED25519 "
                      f"SHA256:{rng.getrandbits(128):032x}",
           "closed": f"Connection closed by {ip} port {port} [preauth]",
           "invalid": f"Invalid user {user} from {ip} port {port}"}.get(kind)
    if kind == "cron":
        return f"{stamp} CRON[{pid}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)"
    if kind == "sudo":
        return (f"{stamp} sudo[{pid}]: pam_unix(sudo:auth): authentication failure; logname={user} uid=1000 "
                f"euid=0 tty=/dev/pts/0 ruser={user} rhost=  user={user}")
    if n > 1:
        msg = f"message repeated {n} times: [ {msg}]"
    return f"{stamp} sshd[{pid}]: {msg}"


def _auth_expected(events, allow, T: int, W: int) -> tuple[str, str, str]:
    import ipaddress
    fails: dict[str, list] = {}
    for t, ip, kind, _, n in events:
        if kind in ("fail", "fail_inv"):
            fails.setdefault(ip, []).extend([t] * n)
    nets = [ipaddress.ip_network(a) for a in allow]
    brute = set()
    for ip, ts in fails.items():
        ts.sort()
        allowed = any(ipaddress.ip_address(ip) in net for net in nets)  # False across IP versions
        if not allowed and any((ts[i + T - 1] - ts[i]).total_seconds() <= W for i in range(len(ts) - T + 1)):
            brute.add(ip)
    comp = {(ip, user) for t, ip, kind, user, _ in events
            if kind.startswith("acc") and ip in brute and t >= fails[ip][0]}
    counts = sorted(fails.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return ("".join(f"{ip} {len(ts)}\n" for ip, ts in counts), "".join(f"{ip}\n" for ip in sorted(brute)),
            "".join(f"{ip} {user}\n" for ip, user in sorted(comp)))


@family(name="auth_log_intrusion", domain="security", skill_type="forensics",
        verifier="exact_text", fixture="text_only", language="python",
        skills=("parse_syslog", "sliding_window_count", "read_compressed_files", "cidr_matching", "correlate_events"),
        command_complexity="bash_code")
def build(rng: random.Random, difficulty: int) -> TaskParts:
    """Find SSH brute-force sources and the logins they won from sshd auth logs. Knobs: 1 failed
    attempts per IP; 2 adds a sliding-window brute-force rule with near-miss decoys; 3 adds
    rotated (gzip) logs and compromised accounts (login after the first failure); 4 adds IPv6,
    `message repeated N times` lines, an allowlist of CIDR blocks and a month boundary."""
    T, W = rng.randint(5, 8), rng.choice([60, 120, 300])
    events, allow = _auth_events(rng, difficulty, T, W)
    lines = [_auth_line(rng, e) for e in events]
    n_files = [1, 1, 3, 4][difficulty - 1]
    cuts = [0] + sorted(rng.sample(range(1, len(lines)), n_files - 1)) + [len(lines)]
    files: dict[str, str | bytes] = {}
    for k in range(n_files):  # auth.log is the newest, auth.log.N the oldest
        text = "\n".join(lines[cuts[n_files - 1 - k]:cuts[n_files - k]]) + "\n"
        name = "auth.log" + (f".{k}" if k else "")
        files[f"environment/app/logs/{name}"] = text if k < 2 else gzip.compress(text.encode(), mtime=0)
        if k >= 2:
            files[f"environment/app/logs/{name}.gz"] = files.pop(f"environment/app/logs/{name}")
    if allow:
        files["environment/app/allowlist.txt"] = "# trusted scanners\n\n" + "\n".join(allow) + "\n"
    by_ip, brute, comp = _auth_expected(events, allow, T, W)
    where = ("/app/logs/auth.log" if n_files == 1 else
             "the files in /app/logs whose names start with `auth.log` (rotated; `.gz` ones are gzip-compressed)")
    spec = ["- /app/report/failed_by_ip.txt: one line `IP COUNT` per source address with at least one failed attempt, "
            "sorted by COUNT descending, then IP in byte order."]
    if difficulty >= 2:
        spec.append(f"- /app/report/bruteforce.txt: one IP per line, sorted in byte order: every address with at least "
                    f"{T} failed attempts within {W} seconds (some {T} of its attempts have timestamps at most {W} "
                    "seconds apart, first to last)" + (", except addresses covered by /app/allowlist.txt (one IPv4 "
                    "address or CIDR block per line; blank lines and lines starting with `#` are ignored)"
                                                       if allow else "") + ".")
    if difficulty >= 3:
        spec.append("- /app/report/compromised.txt: one line `IP USER` (distinct pairs, sorted by IP then USER in byte "
                    "order) for every accepted login (`Accepted password for USER from IP` or `Accepted publickey for "
                    "USER from IP`) from an address listed in bruteforce.txt, timed at or after that address's first "
                    "failed attempt.")
    repeat = (" A line `... sshd[PID]: message repeated N times: [ Failed password for ...]` stands for N failed "
              "attempts at its timestamp." if difficulty >= 4 else "")
    instruction = (
        f"The SSH server's auth log is {where}. Lines look like `Mon DD HH:MM:SS host process[pid]: message` (DD is "
        "space-padded; every timestamp is in 2025). A failed attempt is an sshd message `Failed password for USER "
        f"from IP port ...` or `Failed password for invalid user USER from IP port ...`; its source is the IP.{repeat} "
        "Addresses may be IPv4 or IPv6; write them as they appear.\n\nWrite:\n" + "\n".join(spec)
    )
    outputs = [("failed_by_ip", by_ip), ("bruteforce", brute), ("compromised", comp)][:min(difficulty, 3)]
    checks = "".join(f"g.exact_text({n!r}, '/app/report/{n}.txt', {text!r}, weight={1 if n == 'failed_by_ip' else 2})\n"
                     for n, text in outputs)
    return TaskParts(instruction, FILES.fill("test_task.py", checks=checks),
                     FILES.fill("solve.sh", threshold=T, window=W), files,
                     knobs={"files": n_files, "lines": len(lines), "threshold": T, "window_s": W,
                            "outputs": len(outputs), "ipv6_repeats_allowlist": difficulty >= 4})
