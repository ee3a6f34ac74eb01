"""Sandboxes: one protocol (exec / upload / download / close), backends chosen by name."""

from __future__ import annotations

from collections.abc import Callable

from tmax.errors import ConfigError
from tmax.sandbox.base import Sandbox, SandboxSpec
from tmax.sandbox.environment import PreparedEnvironment, prepare_environment
from tmax.sandbox.shell import ExecResult, Shell


def _podman(env: PreparedEnvironment, spec: SandboxSpec, label: str) -> Sandbox:
    from tmax.sandbox.container import ContainerSandbox
    return ContainerSandbox(env.image, spec, engine="podman", label=label)


def _docker(env: PreparedEnvironment, spec: SandboxSpec, label: str) -> Sandbox:
    from tmax.sandbox.container import ContainerSandbox
    return ContainerSandbox(env.image, spec, engine="docker", label=label)


def _bwrap(env: PreparedEnvironment, spec: SandboxSpec, label: str) -> Sandbox:
    from tmax.sandbox.bwrap import BwrapSandbox
    return BwrapSandbox(env.rootfs, spec, workdir=env.workdir, label=label)


def _apptainer(env: PreparedEnvironment, spec: SandboxSpec, label: str) -> Sandbox:
    from tmax.sandbox.apptainer import ApptainerSandbox
    return ApptainerSandbox(env.rootfs, spec, workdir=env.workdir, label=label)


BACKENDS: dict[str, Callable[[PreparedEnvironment, SandboxSpec, str], Sandbox]] = {
    "podman": _podman, "docker": _docker, "bwrap": _bwrap, "apptainer": _apptainer,
}


def start_sandbox(backend: str, env: PreparedEnvironment, spec: SandboxSpec, label: str = "sandbox") -> Sandbox:
    if backend not in BACKENDS:
        raise ConfigError(f"unknown sandbox backend {backend!r}", where="--sandbox",
                          fix=f"choose one of: {', '.join(BACKENDS)}")
    return BACKENDS[backend](env, spec, label)


__all__ = ["BACKENDS", "ExecResult", "PreparedEnvironment", "Sandbox", "SandboxSpec", "Shell",
           "prepare_environment", "start_sandbox"]
