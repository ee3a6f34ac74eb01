"""A port on a sandbox's own loopback that leads to one host address, and nowhere else.

An outside agent run inside an offline sandbox (Codex CLI) must reach its model and nothing
more. ``Portal`` opens a listening TCP socket *inside the sandbox's network namespace* (a
short-lived thread of this process enters the namespace with ``setns``, binds
``127.0.0.1:<port>`` there and ends; the socket stays in that namespace) and relays every
connection made to it to one fixed ``host:port`` reached from the host's network. The sandbox
keeps its own loopback and gets no interface, route or DNS: the only thing it can reach is that
one address. The relay is plain TCP (HTTP to the model server); it never looks at the bytes.

Works for every backend whose sandbox runs in its own network namespace on this host and
reports the pid of a process inside it (``namespace_pid()``: bwrap, podman, docker on the same
host). Entering a network namespace needs CAP_SYS_ADMIN over it: tmax running as root (bwrap,
rootful podman). ``upstream_errors`` counts relays that could not reach the target: a model
server that was down, which is the infrastructure's failure, not the agent's.
"""

from __future__ import annotations

import ctypes
import os
import socket
import threading

from tmax.errors import SandboxError

_CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _listen_in_namespace(netns: str, port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:``port`` of the network namespace at path ``netns``."""
    made: dict = {}

    def enter_and_bind() -> None:  # a thread of its own: setns moves only the calling thread
        try:
            fd = os.open(netns, os.O_RDONLY)
            try:
                if _libc.setns(fd, _CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, os.strerror(err))
            finally:
                os.close(fd)
            made["socket"] = socket.create_server(("127.0.0.1", port))
        except OSError as exc:
            made["error"] = exc

    thread = threading.Thread(target=enter_and_bind, name="tmax-portal-bind")
    thread.start()
    thread.join()  # the thread ends in the sandbox's namespace; no thread of ours stays there
    if "error" in made:
        exc = made["error"]
        raise SandboxError(f"cannot open a port in the sandbox's network namespace ({exc.strerror or exc})",
                           where=netns, fix="run tmax as root (entering a network namespace needs CAP_SYS_ADMIN), "
                                            "or use a harness that runs outside the sandbox (--harness mini-swe-agent)")
    return made["socket"]


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
            try:
                sock.shutdown(how)
            except OSError:
                pass


class Portal:
    """``127.0.0.1:port`` inside ``sandbox`` relays to ``target`` (host, port) on the host."""

    def __init__(self, sandbox, target: tuple[str, int], port: int = 0):
        pid = sandbox.namespace_pid() if hasattr(sandbox, "namespace_pid") else None
        if not pid:
            raise SandboxError(f"the {getattr(sandbox, 'name', 'sandbox')} backend cannot open a port into its "
                               "sandbox", where="sandbox backend",
                               fix="use --sandbox bwrap or podman (same host), or --harness mini-swe-agent")
        self.target = target
        self.upstream_errors: list[str] = []
        self.n_connections = 0
        self._listener = _listen_in_namespace(f"/proc/{pid}/ns/net", port)
        self.port = self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._accept, name="tmax-portal", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                inner, _ = self._listener.accept()
            except OSError:
                return  # closed
            self.n_connections += 1
            try:
                outer = socket.create_connection(self.target, timeout=30)
                outer.settimeout(None)
            except OSError as exc:
                self.upstream_errors.append(f"{self.target[0]}:{self.target[1]}: {exc.strerror or exc}")
                inner.close()
                continue
            with self._lock:
                if self._closed:
                    inner.close(), outer.close()
                    return
                self._open |= {inner, outer}
            for a, b in ((inner, outer), (outer, inner)):
                threading.Thread(target=_pump, args=(a, b), name="tmax-portal-pump", daemon=True).start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            sockets, self._open = self._open, set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self._thread.join(5)

    def __enter__(self) -> Portal:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
