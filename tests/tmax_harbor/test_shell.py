"""HarborExecShell: tmax's harness over an environment whose exec runs every command on its own
(Harbor's contract). The environment here is a real bwrap sandbox with a fresh shell per
command, driven from a worker thread as the agent plugin does; no harbor package needed."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from tmax.harbor.shell import HarborExecShell
from tmax.sandbox.bwrap import BwrapSandbox


class FreshShellPerExec:
    """Harbor's exec contract over a tmax sandbox: a new bash for each command."""

    def __init__(self, sandbox):
        self.sandbox = sandbox

    async def exec(self, command: str, timeout_sec: int | None = None):
        shell = self.sandbox.open_shell()
        try:
            result = await asyncio.to_thread(shell.run, command, timeout_sec)
        finally:
            shell.close()
        if result.timed_out:
            raise RuntimeError(f"Command timed out after {timeout_sec} seconds")
        return SimpleNamespace(stdout=result.output, stderr="", return_code=result.exit_code)


def test_cwd_and_exports_survive_between_independent_execs(rootfs):
    async def episode(env):
        shell = HarborExecShell(env, asyncio.get_running_loop(), workdir="/tmp")
        run = lambda cmd, timeout=30: asyncio.to_thread(shell.exec, cmd, timeout)  # noqa: E731
        first = await run("pwd; mkdir -p /tmp/work && cd /tmp/work && export GREETING='hi there'")
        second = await run('echo "$(pwd) $GREETING"; false')
        timed = await run("sleep 5", timeout=1)
        return first, second, timed

    with BwrapSandbox(rootfs) as sandbox:
        first, second, timed = asyncio.run(episode(FreshShellPerExec(sandbox)))
    assert first.output.strip() == "/tmp" and first.exit_code == 0
    assert second.output.strip() == "/tmp/work hi there" and second.exit_code == 1
    assert timed.timed_out and timed.exit_code is None
