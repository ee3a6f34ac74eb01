"""kvd: a small TCP key-value service with a line protocol.

Settings, section [kv] of /app/stack.ini:
  host, port  the address to listen on
  data_file   KEY=VALUE lines loaded at start (blank lines and lines starting with # are skipped)
  password    optional; when set, a client must send AUTH <password> before other commands

Commands, one per line, one reply line each: AUTH <password> -> OK | DENIED; GET <key> -> VALUE <value>
| NOTFOUND; SET <key> <value> -> OK; COUNT -> the number of keys. The server closes the connection
after the client closes its sending side.
"""
import configparser
import socketserver
import threading

cfg = configparser.ConfigParser()
cfg.read("/app/stack.ini")
KV, STORE, LOCK = cfg["kv"], {}, threading.Lock()
for line in open(KV["data_file"]):
    if line.strip() and not line.startswith("#") and "=" in line:
        key, value = line.split("=", 1)
        STORE[key.strip()] = value.strip()


def answer(parts, authed):
    cmd = parts[0].upper()
    if cmd == "AUTH":
        return "OK" if parts[1:] == [KV.get("password", "")] else "DENIED"
    if not authed:
        return "DENIED"
    if cmd == "GET" and len(parts) == 2:
        return f"VALUE {STORE[parts[1]]}" if parts[1] in STORE else "NOTFOUND"
    if cmd == "SET" and len(parts) == 3:
        STORE[parts[1]] = parts[2]
        return "OK"
    return str(len(STORE)) if cmd == "COUNT" else "ERROR"


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        authed = not KV.get("password")
        for raw in self.rfile:
            parts = raw.decode("utf-8", "replace").split() or [""]
            with LOCK:
                reply = answer(parts, authed)
            authed = authed or (parts[0].upper() == "AUTH" and reply == "OK")
            self.wfile.write((reply + "\n").encode())


socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer((KV["host"], int(KV["port"])), Handler).serve_forever()
