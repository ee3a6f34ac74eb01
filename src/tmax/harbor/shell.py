"""A persistent shell for tmax's harness over any Harbor environment's ``exec``.

Harbor's ``exec`` runs each command on its own; tmax's harness expects a shell whose working
directory and exported variables survive from one command to the next. On tmax's own
environments (``tmax.harbor.Bwrap``, ``Podman``) the agent uses the sandbox's real persistent
shell; on any other environment (docker, modal, ...) this adapter carries the state in two
files in the sandbox (``/tmp/.tmax-shell-cwd``, ``/tmp/.tmax-shell-env``) written after every
command. Background jobs and shell functions do not survive (each command is a new bash).
"""

from __future__ import annotations

import asyncio
import time

from tmax.sandbox.shell import ExecResult

STATE_CWD = "/tmp/.tmax-shell-cwd"
STATE_ENV = "/tmp/.tmax-shell-env"


def stateful(command: str, workdir: str) -> str:
    """``command`` run in the cwd and environment the previous command left, saving both after;
    in a subshell, so its ``exit`` ends only the command whatever runs it."""
    return (f"(\ncd \"$(cat {STATE_CWD} 2>/dev/null || echo {workdir})\" 2>/dev/null || cd /\n"
            f"[ -f {STATE_ENV} ] && . {STATE_ENV} >/dev/null 2>&1\n"
            f"{command}\n"
            f"__tmax_rc=$?\npwd > {STATE_CWD}; export -p > {STATE_ENV}; exit $__tmax_rc\n)")


class HarborExecShell:
    """The ``exec`` a harness needs (``tmax.sandbox.Sandbox.exec``), over a Harbor environment.
    Called from a worker thread; the environment's coroutines run on the trial's event loop."""

    name = "harbor-exec"

    def __init__(self, environment, loop: asyncio.AbstractEventLoop, workdir: str):
        self.environment, self.loop, self.workdir = environment, loop, workdir

    def exec(self, command: str, timeout: float | None = None) -> ExecResult:
        start = time.monotonic()
        coro = self.environment.exec(stateful(command, self.workdir), timeout_sec=int(timeout) if timeout else None)
        try:
            result = asyncio.run_coroutine_threadsafe(coro, self.loop).result()
        except RuntimeError as exc:  # Harbor's environments raise this on a timeout
            if "timed out" not in str(exc):
                raise
            return ExecResult(str(exc), None, time.monotonic() - start, timed_out=True)
        output = (result.stdout or "") + (result.stderr or "")
        return ExecResult(output, result.return_code, time.monotonic() - start,
                          output_bytes=len(output.encode()))
