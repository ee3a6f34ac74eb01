"""tmax_verify: the grading library generated tests use inside the sandbox.

This file is copied verbatim into every generated task as ``tests/tmax_verify.py`` and runs
with the image's python3, so it uses the standard library only. A test script grades with it
and writes ``/logs/verifier/reward.json``::

    from tmax_verify import Grader
    g = Grader()
    out = g.read("/app/report.txt")
    g.gate("report exists", out is not None)             # a failed gate makes the total 0
    g.exact_text("totals", "/app/report.txt", "a 3\\nb 5\\n", weight=2)
    g.metric_threshold("accuracy", acc, 0.9)             # pass when acc >= 0.9
    g.finish()                                           # writes reward.json, prints a table

The total is the weighted mean of the components' scores (each in [0, 1]), or 0 when a gate
failed. reward.json holds the total under ``reward`` and every component under its name,
so LLM-written and procedural tasks grade with the same semantics.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request

REWARD_PATH = "/logs/verifier/reward.json"


def normalize(text: str) -> str:
    """Trailing whitespace per line and trailing blank lines removed; CRLF as LF."""
    lines = text.replace("\r\n", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).rstrip("\n")


class Grader:
    def __init__(self):
        self.parts: list[tuple[str, float, float, str]] = []  # name, score, weight, detail
        self.failed_gates: list[str] = []

    # -- components ----------------------------------------------------------------------------
    def gate(self, name: str, ok: bool, detail: str = "") -> bool:
        """A precondition: when it fails the whole task scores 0 (e.g. the output file exists)."""
        if not ok:
            self.failed_gates.append(name)
        self._log("gate", name, 1.0 if ok else 0.0, detail)
        return bool(ok)

    def score(self, name: str, value: float, weight: float = 1.0, detail: str = "") -> float:
        value = min(1.0, max(0.0, float(value)))
        self.parts.append((name, value, float(weight), detail))
        self._log("part", name, value, detail)
        return value

    def check(self, name: str, ok: bool, weight: float = 1.0, detail: str = "") -> bool:
        self.score(name, 1.0 if ok else 0.0, weight, detail)
        return bool(ok)

    def exact_text(self, name: str, path: str, expected: str, *, weight: float = 1.0, exact: bool = False) -> bool:
        """The file's text equals ``expected`` (normalized unless ``exact``)."""
        got = self.read(path)
        if got is None:
            return self.check(name, False, weight, f"{path} is missing")
        same = got == expected if exact else normalize(got) == normalize(expected)
        return self.check(name, same, weight, "" if same else f"{path} differs from the expected text")

    def metric_threshold(self, name: str, value: float | None, threshold: float, *, higher_is_better: bool = True,
                         weight: float = 1.0) -> bool:
        ok = value is not None and (value >= threshold if higher_is_better else value <= threshold)
        sign = ">=" if higher_is_better else "<="
        return self.check(name, ok, weight, f"value {value} (need {sign} {threshold})")

    def corpus(self, name: str, accepts, clean: list, malicious: list, *, weight: float = 1.0) -> float:
        """Adversarial corpus: the fraction of inputs judged right (``accepts(x)`` is True for
        every clean input and False for every malicious one)."""
        right = sum(1 for x in clean if _safe(accepts, x) is True)
        right += sum(1 for x in malicious if _safe(accepts, x) is False)
        total = len(clean) + len(malicious)
        return self.score(name, right / total if total else 0.0, weight, f"{right}/{total} judged right")

    def fuzz_equivalence(self, name: str, candidate, oracle, inputs: list, *, weight: float = 1.0) -> float:
        """The fraction of inputs on which ``candidate(x) == oracle(x)``."""
        same = sum(1 for x in inputs if _safe(candidate, x) == oracle(x))
        return self.score(name, same / len(inputs) if inputs else 0.0, weight, f"{same}/{len(inputs)} agree")

    # -- helpers for tests ---------------------------------------------------------------------
    @staticmethod
    def read(path: str, mode: str = "r"):
        try:
            with open(path, mode) as f:
                return f.read()
        except (OSError, UnicodeDecodeError):
            return None

    @staticmethod
    def run(cmd, *, input: str | None = None, timeout: float = 30.0, cwd: str | None = None):
        """(exit code, stdout, stderr) of a command (list, or a string for bash -c); code -1 on timeout."""
        argv = ["bash", "-c", cmd] if isinstance(cmd, str) else cmd
        try:
            p = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout, cwd=cwd)
            return p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired:
            return -1, "", "timeout"
        except OSError as exc:
            return -1, "", str(exc)

    @staticmethod
    def http_get(url: str, timeout: float = 5.0):
        """(status, body text) or (None, error)."""
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")
        except (OSError, ValueError) as exc:
            return None, str(exc)

    @staticmethod
    def tcp_exchange(host: str, port: int, data: bytes, timeout: float = 5.0) -> bytes | None:
        """Send ``data``, half-close, read until the peer closes; None when unreachable."""
        try:
            with socket.create_connection((host, port), timeout=timeout) as s:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
                chunks = []
                while chunk := s.recv(65536):
                    chunks.append(chunk)
                return b"".join(chunks)
        except OSError:
            return None

    # -- result --------------------------------------------------------------------------------
    def total(self) -> float:
        if self.failed_gates or not self.parts:
            return 0.0
        weight = sum(w for _, _, w, _ in self.parts)
        return sum(s * w for _, s, w, _ in self.parts) / weight if weight else 0.0

    def finish(self, path: str = REWARD_PATH) -> float:
        total = round(self.total(), 6)
        data = {"reward": total}
        data.update({name: round(s, 6) for name, s, _, _ in self.parts if name != "reward"})
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            json.dump(data, f)
        print(f"reward {total}" + (f" (failed gates: {', '.join(self.failed_gates)})" if self.failed_gates else ""))
        return total

    @staticmethod
    def _log(kind: str, name: str, value: float, detail: str) -> None:
        print(f"[{kind}] {name}: {value:g}" + (f"  {detail}" if detail else ""), file=sys.stderr)


def _safe(fn, x):
    try:
        return fn(x)
    except Exception as exc:  # a crash on one input is a wrong answer on that input
        return f"<error {type(exc).__name__}>"
