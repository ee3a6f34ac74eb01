"""Request errors: what the client did wrong, as OpenAI's error JSON with a 4xx status.

Every request body is read into a pydantic model that forbids unknown fields, so a field or
value the server does not implement is answered with a 400 that names it instead of being
dropped on the floor. ``parse`` does that read; ``RequestError`` carries the answer.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError


class RequestError(Exception):
    """A 4xx answer: ``status``, a message meant for the caller, the offending ``param`` and an
    OpenAI-style ``code`` (clients such as Codex act on ``context_length_exceeded``)."""

    def __init__(self, message: str, *, status: int = 400, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.status, self.param, self.code = status, param, code

    def body(self) -> dict:
        kind = "not_found_error" if self.status == 404 else "invalid_request_error"
        return {"error": {"message": str(self), "type": kind, "param": self.param, "code": self.code}}


Model = TypeVar("Model", bound=BaseModel)


def _where(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(error: dict) -> tuple[str, str]:
    where = _where(tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-"))))
    if error["type"] == "extra_forbidden":
        return f"`{where}` is not supported by this server (tmax serve); remove it", where
    if error["type"] == "missing":
        return f"`{where}` is required", where
    shown = repr(error.get("input"))
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return f"`{where}`: {error['msg']} (got {shown})", where


def parse(model: type[Model], body: object) -> Model:
    """``body`` as ``model``, or a RequestError naming the first field that does not fit."""
    if not isinstance(body, dict):
        raise RequestError("the request body must be a JSON object")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        message, where = _message(exc.errors()[0])
        raise RequestError(message, param=where or None) from None
