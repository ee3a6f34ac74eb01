"""A persistent bash session over pipes.

One bash process lives inside the sandbox for the whole trial; each command is sent to it
and framed by a random end marker, so the working directory, exported variables, functions
and shell options survive between commands, and a command costs a pipe round trip instead
of a fresh ``podman exec`` (~0.1 ms against ~100 ms; see benchmarks/sandbox.py).

How one command runs::

    IFS= read -r -d '' __tmax_cmd <<'__TMAX_EOF_<nonce>'
    <command>
    __TMAX_EOF_<nonce>
    { eval "$__tmax_cmd"; } </dev/null >&71 2>&1
    printf '\\n__TMAX_DONE_<nonce>_%d__\\n' "$?"

stdin is /dev/null so a command can never read the protocol stream. Fd 71 is a copy of the
shell's stdout made at start; redirecting the group from it makes bash restore fds 0, 1 and 2
afterwards, even if the command ran ``exec >file``.
stdout and stderr are merged, as in a terminal. The shell's own stderr goes to /dev/null: bash
reports a background job killed by a timeout ("line 17: 3 Killed sleep 60") whenever it
notices, which would land at a random place in a later command's output.

Timeouts: when a command runs past its limit the sandbox's ``interrupt`` kills every other
process in the sandbox (the command, its children, orphans it left behind) but not the
shell, so the shell prints its marker and keeps its state. If the command was a shell
builtin that never returns (``while :; do :; done``), or the command ended the shell
(``exit``, ``set -e``), the shell is restarted and the result says so: its state is lost.
"""

from __future__ import annotations

import os
import re
import secrets
import select
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

from tmax.errors import SandboxError


@dataclass
class ExecResult:
    """What one command did."""

    output: str
    """stdout and stderr merged, decoded as UTF-8 (undecodable bytes replaced); head and tail
    kept when longer than the shell's cap."""
    exit_code: int | None
    """The command's exit status (137 after a kill); None if the shell had to be restarted."""
    duration_s: float
    timed_out: bool = False
    output_bytes: int = 0
    """Total bytes the command printed, including any elided from ``output``."""
    elided_bytes: int = 0
    output_limited: bool = False
    """The command was killed because it printed more than the shell's output limit."""
    shell_restarted: bool = False
    """The shell died or hung and a fresh one replaced it (cwd, env and functions are reset)."""


class _Capture:
    """Keep the first and last ``cap // 2`` bytes of a stream and count the rest."""

    def __init__(self, cap: int):
        self.half = max(cap // 2, 1)
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, data: bytes) -> None:
        self.total += len(data)
        room = self.half - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            if len(self.tail) > 2 * self.half:
                del self.tail[: len(self.tail) - self.half]

    def text(self) -> tuple[str, int]:
        tail = self.tail[-self.half :] if len(self.tail) > self.half else self.tail
        elided = self.total - len(self.head) - len(tail)
        if elided <= 0:
            return bytes(self.head + tail).decode("utf-8", "replace"), 0
        note = f"\n[... {elided} bytes elided ...]\n".encode()
        return bytes(self.head + note + tail).decode("utf-8", "replace"), elided


class Shell:
    """A bash process started by ``argv`` (e.g. ``podman exec -i CTR bash``) driven over pipes.

    ``interrupt(shell)`` is supplied by the sandbox: it must kill every process of the
    sandbox except its init and the live shells, and return without hanging.
    """

    def __init__(self, argv: list[str], interrupt: Callable[["Shell"], None], *,
                 output_cap: int = 2_000_000, output_limit: int = 64_000_000, grace_s: float = 3.0,
                 start_timeout_s: float = 60.0, popen_kwargs: dict | None = None):
        self.argv, self.interrupt = argv, interrupt
        self.output_cap, self.output_limit, self.grace_s = output_cap, output_limit, grace_s
        self.start_timeout_s = start_timeout_s
        self.popen_kwargs = popen_kwargs or {}
        self.proc: subprocess.Popen | None = None
        self.pid_in_sandbox: int | None = None
        self._leftover = b""
        self._start()

    # -- life cycle -------------------------------------------------------------------------
    def _start(self) -> None:
        try:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, bufsize=0, start_new_session=True,
                                         **self.popen_kwargs)
        except (OSError, subprocess.SubprocessError) as exc:
            raise SandboxError(f"cannot start shell: {exc}", where=" ".join(self.argv[:3]),
                               fix="check that the sandbox backend's command is installed") from exc
        self._leftover = b""
        try:
            self.proc.stdin.write(b"exec 71>&1 2>/dev/null\n")
        except OSError:
            pass
        result = self._run("echo $$; unset HISTFILE", self.start_timeout_s, allow_restart=False)
        if result.exit_code != 0 or not result.output.strip().isdigit():
            self._kill_proc()
            raise SandboxError(f"shell did not start: {result.output.strip()[-2000:]!r}",
                               where=" ".join(self.argv[:4]), fix="check that the image has bash")
        self.pid_in_sandbox = int(result.output.strip())

    def _kill_proc(self) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except (ProcessLookupError, PermissionError):
                pass
            self.proc.wait()

    def close(self) -> None:
        if self.proc is None:
            return
        try:
            if self.proc.poll() is None:
                self.proc.stdin.close()
                self.proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self._kill_proc()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.proc = None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- commands ---------------------------------------------------------------------------
    def run(self, command: str, timeout: float | None = None) -> ExecResult:
        """Run ``command`` in the shell; ``timeout`` seconds (None: no limit)."""
        if self.proc is None:
            raise SandboxError("shell is closed", where="Shell.run")
        return self._run(command, timeout, allow_restart=True)

    def _run(self, command: str, timeout: float | None, *, allow_restart: bool) -> ExecResult:
        nonce = secrets.token_hex(8)
        command = command.replace("\0", "")
        script = (f"IFS= read -r -d '' __tmax_cmd <<'__TMAX_EOF_{nonce}'\n{command}\n__TMAX_EOF_{nonce}\n"
                  f"{{ eval \"$__tmax_cmd\"; }} </dev/null >&71 2>&1\n"
                  f"printf '\\n__TMAX_DONE_{nonce}_%d__\\n' \"$?\"\n")
        marker = re.compile(rb"\n__TMAX_DONE_" + nonce.encode() + rb"_(-?\d+)__\n")
        capture = _Capture(self.output_cap)
        start = time.monotonic()
        try:
            self.proc.stdin.write(script.encode("utf-8", "surrogateescape"))
        except (BrokenPipeError, OSError):
            return self._after_death(capture, start, allow_restart, timed_out=False)
        window = bytearray(self._leftover)
        self._leftover = b""
        keep = 64  # longest marker, so one split across reads is still found
        deadline = None if timeout is None else start + timeout
        timed_out = limited = False
        fd = self.proc.stdout.fileno()
        while True:
            match = marker.search(window)
            if match:
                capture.add(bytes(window[: match.start()]))
                self._leftover = bytes(window[match.end():])
                text, elided = capture.text()
                return ExecResult(text, int(match.group(1)), time.monotonic() - start, timed_out,
                                  capture.total, elided, limited)
            if len(window) > keep:
                capture.add(bytes(window[:-keep]))
                del window[:-keep]
            if capture.total > self.output_limit and not (timed_out or limited):
                limited = True
                self.interrupt(self)
                deadline = time.monotonic() + self.grace_s
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                if timed_out or limited:  # the interrupt did not bring the marker back
                    capture.add(bytes(window))
                    return self._after_death(capture, start, allow_restart, timed_out=timed_out, limited=limited)
                timed_out = True
                self.interrupt(self)
                deadline = time.monotonic() + self.grace_s
                continue
            wait = 1.0 if deadline is None else max(0.0, min(1.0, deadline - now))
            ready, _, _ = select.select([fd], [], [], wait)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                capture.add(bytes(window))
                return self._after_death(capture, start, allow_restart, timed_out=timed_out, limited=limited)
            window += chunk

    def _after_death(self, capture: _Capture, start: float, allow_restart: bool, *,
                     timed_out: bool, limited: bool = False) -> ExecResult:
        """The shell exited or hung: replace it (state is lost) and say so."""
        try:  # after EOF the process may not be reaped yet (podman exec relays the exit)
            code = self.proc.wait(timeout=0 if timed_out or limited else 5)
        except subprocess.TimeoutExpired:
            code = None
        self._kill_proc()
        text, elided = capture.text()
        if not allow_restart:
            return ExecResult(text, code, time.monotonic() - start, timed_out, capture.total, elided, limited)
        try:
            self._start()
        except SandboxError as exc:
            raise SandboxError(f"shell died and could not be restarted: {exc.what}", where=exc.where,
                               fix="the sandbox itself may have crashed; see the trial log") from exc
        note = "\n[tmax: the shell " + ("hung and was killed" if timed_out or limited else
                                        f"exited (status {code})") + "; a new shell was started]"
        return ExecResult(text + note, None, time.monotonic() - start, timed_out, capture.total, elided,
                          limited, shell_restarted=True)
