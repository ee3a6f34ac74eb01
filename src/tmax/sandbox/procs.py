"""Host-side process control for sandboxes that live in their own PID namespace.

Both the podman (rootful or rootless, same host) and the bwrap backends run every sandbox
in a fresh PID namespace whose processes are also visible in the host's /proc. Killing from
the host needs no process inside the sandbox: it works even when a fork bomb has used up the
sandbox's pids limit, and it catches orphans that were re-parented away from the shell.
"""

from __future__ import annotations

import os
import signal
import time


def namespace(pid: int, kind: str = "pid") -> str | None:
    """Host process ``pid``'s namespace of ``kind`` (``pid:[4026532…]``), or None if not visible."""
    try:
        return os.readlink(f"/proc/{pid}/ns/{kind}")
    except OSError:
        return None


def pid_namespace(pid: int) -> str | None:
    return namespace(pid, "pid")


def _nspid(pid: int) -> int | None:
    """``pid``'s number inside its innermost namespace (the last field of ``NSpid``)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError):
        return None
    return None


def processes_in(namespace: str) -> dict[int, int]:
    """Host pid -> namespace pid for every process in ``namespace``."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if pid_namespace(pid) == namespace:
            inner = _nspid(pid)
            if inner is not None:
                found[pid] = inner
    return found


def children_of(pid: int) -> list[int]:
    """Direct children of host process ``pid``."""
    try:  # fast path (CONFIG_PROC_CHILDREN); the /proc scan below works everywhere
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(x) for x in fh.read().split()]
    except (OSError, ValueError):
        pass
    kids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            kids.append(int(entry.name))
    return kids


def kill_namespace(namespace: str, keep: set[int], *, rounds: int = 200) -> int:
    """SIGKILL every process of ``namespace`` whose namespace pid is not in ``keep``.

    Repeats until none is left (a fork bomb keeps spawning while we kill). Returns the
    number of signals sent.
    """
    sent = 0
    for _ in range(rounds):
        victims = [host for host, inner in processes_in(namespace).items() if inner not in keep]
        if not victims:
            return sent
        for host in victims:
            try:
                os.kill(host, signal.SIGKILL)
                sent += 1
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.005)
    return sent


def _start_ticks(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]  # field 22: start time since boot
    except (OSError, IndexError):
        return None


def owner_token() -> str:
    """This process, named so that a later process with the same pid is not mistaken for it."""
    return f"{os.getpid()}-{_start_ticks(os.getpid())}"


def owner_alive(token: str) -> bool:
    """Whether the process named by ``owner_token()`` still runs (unknown forms count as alive)."""
    pid, _, ticks = token.partition("-")
    if not pid.isdigit() or not ticks:
        return True
    return _start_ticks(int(pid)) == ticks
