"""api: an HTTP front end for kvd.

Settings, section [api] of /app/stack.ini:
  port              the port to listen on (the server binds 127.0.0.1)
  kv_host, kv_port  the address of kvd
  kv_password       optional; sent to kvd as AUTH <kv_password> before each request

Endpoints: GET /health -> 200 "ok"; GET /kv/<key> -> 200 and the value, or 404; GET /stats -> 200 {"keys": N}
"""
import configparser
import json
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

cfg = configparser.ConfigParser()
cfg.read("/app/stack.ini")
API = cfg["api"]


def kv_call(command):
    lines = ([f"AUTH {API['kv_password']}"] if API.get("kv_password") else []) + [command]
    with socket.create_connection((API["kv_host"], int(API["kv_port"])), timeout=3) as s:
        s.sendall(("\n".join(lines) + "\n").encode())
        s.shutdown(socket.SHUT_WR)
        return s.makefile().read().splitlines()[-1]


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        status, body = 404, "not found"
        try:
            if self.path == "/health":
                status, body = 200, "ok"
            elif self.path.startswith("/kv/"):
                reply = kv_call("GET " + self.path[4:])
                status, body = (200, reply[6:]) if reply.startswith("VALUE ") else (404, "not found")
            elif self.path == "/stats":
                status, body = 200, json.dumps({"keys": int(kv_call("COUNT"))})
        except (OSError, ValueError, IndexError) as exc:
            status, body = 502, f"kv backend error: {exc}"
        self.send_response(status)
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(API["port"])), Handler).serve_forever()
