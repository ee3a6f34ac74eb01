"""The error family a user can hit.

Every error says what is wrong, where (a file, field, command or task), and what to do about
it. The CLI prints these without a traceback. Errors that come from the infrastructure
(image builds, sandbox crashes, verifier timeouts) subclass ``InfraError`` so trial records
can tell them apart from a task the agent simply failed.
"""

from __future__ import annotations


class TmaxError(Exception):
    """Base class: ``what`` went wrong, ``where`` it happened, and the ``fix``."""

    def __init__(self, what: str, *, where: str | None = None, fix: str | None = None):
        self.what, self.where, self.fix = what, where, fix
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = f"{self.where}: {self.what}" if self.where else self.what
        if self.fix:
            text += f"\n  fix: {self.fix}"
        return text


class TaskError(TmaxError):
    """A task directory is malformed (missing file, bad field)."""


class ConfigError(TmaxError):
    """A configuration value or command-line option is invalid."""


class InfraError(TmaxError):
    """The infrastructure failed; a trial that hits this is an error, never a reward of 0."""


class SandboxError(InfraError):
    """The sandbox could not be started, crashed, or stopped answering."""


class BuildError(InfraError):
    """A task environment image failed to build."""


class VerifierError(InfraError):
    """The verifier timed out or wrote no readable reward."""


class TrajectoryError(TmaxError):
    """A trajectory file (ATIF or tmax's own) is malformed: one trial's data, skipped with a warning."""
