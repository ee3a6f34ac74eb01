"""Serving throughput and time to first token: `tmax serve` (Starlette + uvicorn) against the
`http.server` implementation it replaced, on the same engine, in one run.

The old server is read from git history (the last commit that had
``src/tmax/engines/server.py``) and loaded in-process; nothing of it is kept in the tree.
Both wrap the engine in the same ``Batcher``. Clients are threads with their own HTTP
connection, each sending ``--requests`` chat completions one after the other; ``-c`` of them at
once (1, 4, 16 by default). The servers are measured in turn at each level, ``--rounds`` times.

Figures per server, mode and concurrency:
    tokens/s      completion tokens of all requests / wall time
    TTFT p50/p95  request sent -> first content token received. The old server cannot stream:
                  its TTFT is the whole request. The engine protocol returns whole samples, so
                  the new server's stream also starts its content once the reply is sampled;
                  its first event (the role chunk) arrives at once: "first event p50".

Engines:
    tiny     the tiny Qwen3 model on the hf engine (CPU), --max-tokens new tokens a request
    instant  a fixed reply of --max-tokens tokens at no cost: what the HTTP stack itself costs

Usage: .venv/bin/python benchmarks/serve.py [--engines tiny instant] [-c 1 4 16] [--requests 4]
                                            [--max-tokens 32] [--rounds 3] [--json serve.json]
"""

from __future__ import annotations

import argparse
import json
import math
import socket
import statistics
import subprocess
import threading
import time
import types
from pathlib import Path

import httpx

from tmax.engines.base import Sample

ROOT = Path(__file__).resolve().parents[1]
OLD_PATH = "src/tmax/engines/server.py"
FIGURES = ("tokens_per_s", "ttft_p50_ms", "ttft_p95_ms", "first_event_p50_ms")
MESSAGES = [{"role": "system", "content": "You are a terminal agent."},
            {"role": "user", "content": "List the files in /app and count the lines of data.csv."}]


def old_server_class():
    """``ModelServer`` as it was before the move to Starlette, from git history."""
    deleted = subprocess.run(["git", "-C", str(ROOT), "rev-list", "-1", "HEAD", "--", OLD_PATH],
                             capture_output=True, text=True, check=True).stdout.strip()
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{deleted}^:{OLD_PATH}"],
                            capture_output=True, text=True, check=True).stdout
    module = types.ModuleType("tmax_old_server")
    exec(compile(source, f"{deleted[:8]}^:{OLD_PATH}", "exec"), module.__dict__)
    return module.ModelServer


class InstantEngine:
    """The same reply (``length`` token ids) to every prompt, at no cost."""

    def __init__(self, tokenizer, length: int):
        ids = tokenizer("ls -la /app && wc -l data.csv " * length, add_special_tokens=False)["input_ids"]
        self.reply = ids[:length]

    def generate(self, prompts, params):
        return [Sample(list(self.reply), [-0.5] * len(self.reply), "", "length", len(p)) for p in prompts]


def _one(http: httpx.Client, url: str, body: dict, stream: bool) -> tuple[float, float, int]:
    """(time to first event, time to first content token, completion tokens) of one request."""
    start = time.perf_counter()
    if not stream:
        reply = http.post(url, json=body).json()
        elapsed = time.perf_counter() - start
        return elapsed, elapsed, reply["usage"]["completion_tokens"]
    first_event = first_token = None
    tokens = 0
    with http.stream("POST", url, json={**body, "stream": True, "stream_options": {"include_usage": True}}) as reply:
        for line in reply.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            now = time.perf_counter() - start
            first_event = first_event if first_event is not None else now
            chunk = json.loads(line[6:])
            if first_token is None and any(c["delta"].get("content") for c in chunk["choices"]):
                first_token = now
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
    return first_event, first_token if first_token is not None else first_event, tokens


def measure(base_url: str, model: str, concurrency: int, requests: int, max_tokens: int, stream: bool) -> dict:
    body = {"model": model, "messages": MESSAGES, "max_tokens": max_tokens, "temperature": 1.0}
    results: list[tuple[float, float, int]] = []
    lock = threading.Lock()

    def client() -> None:
        # TCP_NODELAY: httpx writes headers and body separately, and Nagle + delayed ACK would
        # add ~40 ms to every request, whichever the server
        nodelay = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        with httpx.Client(timeout=600, transport=nodelay) as http:
            for _ in range(requests):
                result = _one(http, f"{base_url}/chat/completions", body, stream)
                with lock:
                    results.append(result)

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    ttft = sorted(r[1] for r in results)
    return {"concurrency": concurrency, "requests": len(results), "wall_s": wall,
            "tokens_per_s": sum(r[2] for r in results) / wall,
            "ttft_p50_ms": 1000 * statistics.median(ttft), "ttft_p95_ms": 1000 * ttft[math.ceil(0.95 * len(ttft)) - 1],
            "first_event_p50_ms": 1000 * statistics.median(r[0] for r in results)}


def run_engine(name: str, engine, tokenizer, args) -> list[dict]:
    """Every server up at once; per concurrency level each is measured in turn, ``--rounds``
    times, so a load change on the machine hits them alike. A figure is the median of rounds."""
    from contextlib import ExitStack

    from tmax.serve import ModelServer

    servers = [("http.server (old)", old_server_class(), False), ("starlette+uvicorn", ModelServer, False),
               ("starlette+uvicorn, SSE", ModelServer, True)]
    rows = []
    with ExitStack() as stack:
        urls = [stack.enter_context(cls(engine, tokenizer, "bench", port=0)).url for _, cls, _ in servers]
        for url, (_, _, stream) in zip(urls, servers):
            measure(url, "bench", 1, 1, args.max_tokens, stream)  # warm-up
        for c in args.concurrency:
            rounds = [[measure(url, "bench", c, args.requests, args.max_tokens, stream)
                       for url, (_, _, stream) in zip(urls, servers)] for _ in range(args.rounds)]
            for i, (label, _, _) in enumerate(servers):
                row = {"engine": name, "server": label, "concurrency": c, "rounds": [r[i] for r in rounds]}
                row |= {k: statistics.median(r[i][k] for r in rounds) for k in FIGURES}
                rows.append(row)
                print(f"{name:8} {label:24} c={c:<3} {row['tokens_per_s']:9.1f} tok/s  TTFT p50 "
                      f"{row['ttft_p50_ms']:8.1f} ms  p95 {row['ttft_p95_ms']:8.1f} ms  first event p50 "
                      f"{row['first_event_p50_ms']:7.1f} ms", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", nargs="+", default=["tiny", "instant"], choices=["tiny", "instant"])
    parser.add_argument("-c", "--concurrency", nargs="+", type=int, default=[1, 4, 16])
    parser.add_argument("--requests", type=int, default=4, help="Requests per client.")
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="Measurements per server and level (median kept).")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from tmax.engines.hf import HFEngine
    from tmax.engines.tiny import ensure_tiny_model

    hf = HFEngine.from_pretrained(ensure_tiny_model())
    engines = {"tiny": hf, "instant": InstantEngine(hf.tokenizer, args.max_tokens)}
    rows = [row for name in args.engines for row in run_engine(name, engines[name], hf.tokenizer, args)]
    if args.json:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)}, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
