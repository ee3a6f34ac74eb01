from tmax_verify import Grader
DATA = {{ data | repr }}
g = Grader()
import json
import socket
import subprocess
import time

# Every process the agent left was ended before verification: the stack starts from its files.
try:
    subprocess.run(["bash", "/app/start-stack.sh"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=60, check=False)
except subprocess.TimeoutExpired:
    pass
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", DATA["api_port"]), timeout=0.2).close()
        break
    except OSError:
        time.sleep(0.1)

def kv(*cmds):
    pre = [f"AUTH {DATA['password']}"] if DATA["password"] else []
    out = g.tcp_exchange("127.0.0.1", DATA["kv_port"], "".join(c + "\n" for c in pre + list(cmds)).encode())
    return None if out is None else out.decode("utf-8", "replace").splitlines()[len(pre):]

def http(path):
    return g.http_get(f"http://127.0.0.1:{DATA['api_port']}{path}")

def pid_ok(svc):
    try:
        pid = int(open(f"/run/{svc}.pid").read().strip())
        return f"{svc}.py" in open(f"/proc/{pid}/cmdline").read()
    except (OSError, ValueError):
        return False

count, health = kv("COUNT"), http("/health")
g.gate("kvd or api answers", count is not None or health[0] is not None)
sample = DATA["sample"]
g.check("kvd COUNT over TCP", count == [str(DATA["n_keys"])])
g.check("kvd GET over TCP", kv(*[f"GET {k}" for k in sample]) == [f"VALUE {v}" for v in sample.values()], weight=2)
g.check("api /health", health == (200, "ok"))
g.check("api /kv/<key> served from kvd", all(http(f"/kv/{k}") == (200, v) for k, v in sample.items()), weight=2)
g.check("api 404 for a missing key", http(f"/kv/{DATA['missing']}")[0] == 404)
status, body = http("/stats")
g.check("api /stats", status == 200 and body.strip() == json.dumps({"keys": DATA["n_keys"]}))
key, value = DATA["new"]
g.check("SET over TCP is seen over HTTP", kv(f"SET {key} {value}") == ["OK"] and http(f"/kv/{key}") == (200, value),
        weight=2)
if DATA["password"]:
    raw = g.tcp_exchange("127.0.0.1", DATA["kv_port"], f"GET {next(iter(sample))}\n".encode())
    g.check("kvd requires the password", raw is not None and raw.decode().strip() == "DENIED")
if DATA["pidfiles"]:
    g.check("pid files name the running services", pid_ok("kvd") and pid_ok("api"))
g.finish()
