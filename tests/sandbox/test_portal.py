"""The portal: a port on a sandbox's loopback that reaches one host address and nothing else."""

from __future__ import annotations

import os
import socket
import threading

import pytest

from tmax.sandbox.base import SandboxSpec
from tmax.sandbox.portal import Portal

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="entering a sandbox's network namespace needs root")

# a client inside the sandbox: send a line to 127.0.0.1:PORT, print the reply
CLIENT = ("python3 -c 'import socket,sys; s=socket.create_connection((\"127.0.0.1\", int(sys.argv[1])), 5); "
          "s.sendall(b\"ping\\n\"); print(s.makefile().readline().strip())' {port}")


@pytest.fixture
def echo_server():
    """A host TCP server on loopback that answers each line with 'host:<line>'."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                line = conn.makefile().readline()
                conn.sendall(f"host:{line.strip()}\n".encode())

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1]
    server.close()


def _check(sandbox, port: int) -> None:
    with Portal(sandbox, ("127.0.0.1", port)) as portal:
        done = sandbox.exec(CLIENT.format(port=portal.port), 30)
        assert done.exit_code == 0, done.output
        assert done.output.strip() == "host:ping"
        # the host's own loopback port is not reachable from inside: only the portal is
        direct = sandbox.exec(CLIENT.format(port=port), 30)
        assert direct.exit_code != 0 and "host:ping" not in direct.output
        assert portal.n_connections == 1 and portal.upstream_errors == []


def test_portal_into_bwrap(rootfs, echo_server):
    from tmax.sandbox.bwrap import BwrapSandbox

    with BwrapSandbox(rootfs, SandboxSpec(storage_mb=None)) as sandbox:
        _check(sandbox, echo_server)


def test_portal_into_podman(podman_image, echo_server):
    from tmax.sandbox.container import ContainerSandbox

    with ContainerSandbox(podman_image, SandboxSpec(storage_mb=None)) as sandbox:
        _check(sandbox, echo_server)


def test_portal_counts_an_unreachable_target(rootfs):
    from tmax.sandbox.bwrap import BwrapSandbox

    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    with BwrapSandbox(rootfs, SandboxSpec(storage_mb=None)) as sandbox, Portal(sandbox, ("127.0.0.1", port)) as portal:
        done = sandbox.exec(CLIENT.format(port=portal.port), 30)
        assert done.exit_code != 0
        assert len(portal.upstream_errors) == 1 and "refused" in portal.upstream_errors[0].lower()
