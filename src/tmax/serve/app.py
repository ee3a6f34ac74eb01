"""The HTTP server: a Starlette app on uvicorn over one ``ServedModel``.

Routes (OpenAI-compatible, all under ``/v1``):

- ``GET  /v1/models``, ``GET /v1/models/{name}``
- ``POST /v1/chat/completions`` (chat.py), ``POST /v1/completions`` (completions.py),
  ``POST /v1/responses`` (responses.py); each answers JSON, or server-sent events with
  ``stream: true``
- ``GET  /health``

A handler returns a dict (sent as JSON) or an async iterator of events (sent as SSE through
sse-starlette, which also pings idle streams). Errors are JSON in OpenAI's shape: a 4xx names
the field or value at fault, a 404 the route or model; an engine failure is a 500 whose
message says what broke (the traceback goes to the server's log, not to the client).
Generation runs in worker threads, so concurrent requests meet in the ``Batcher``.

``ModelServer`` runs the app on a background thread (tests, in-process use) or in the
foreground (``tmax serve``); ``ModelServer.from_model_dir`` builds it for a transformers dir.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from pathlib import Path

import uvicorn
from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tmax.engines.base import Engine
from tmax.errors import ConfigError
from tmax.serve.chat import chat_completions
from tmax.serve.completions import completions
from tmax.serve.errors import RequestError
from tmax.serve.model import HFScorer, Scorer, ServedModel
from tmax.serve.responses import responses

log = logging.getLogger("tmax.serve")


def _error(status: int, message: str, kind: str, code: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": code}}, status_code=status)


def _post(model: ServedModel, handler):
    async def endpoint(request: Request):
        try:
            body = json.loads(await request.body() or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RequestError(f"the request body is not JSON: {exc}") from None
        try:
            result = await handler(model, body)
        except RequestError:
            raise
        except Exception as exc:  # answered here: re-raised past Starlette, it would reset the connection
            log.exception("%s failed", request.url.path)
            return _error(500, f"{type(exc).__name__}: {exc}", "server_error")
        if isinstance(result, dict):
            return JSONResponse(result)
        return EventSourceResponse(result, ping=10, send_timeout=60)

    return endpoint


def build_app(model: ServedModel) -> Starlette:
    def card() -> dict:
        return {"id": model.name, "object": "model", "created": 0, "owned_by": "tmax",
                "max_model_len": model.max_context}

    async def list_models(request: Request) -> JSONResponse:
        return JSONResponse({"object": "list", "data": [card()]})

    async def get_model(request: Request) -> JSONResponse:
        if request.path_params["name"] != model.name:
            raise RequestError(f"The model `{request.path_params['name']}` does not exist", status=404,
                               code="model_not_found")
        return JSONResponse(card())

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "model": model.name})

    async def request_error(request: Request, exc: RequestError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        message = f"no route {request.method} {request.url.path}" if exc.status_code in (404, 405) else exc.detail
        return _error(exc.status_code, message, "invalid_request_error")

    async def server_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return _error(500, f"{type(exc).__name__}: {exc}", "server_error")

    routes = [Route("/v1/models", list_models), Route("/v1/models/{name:path}", get_model),
              Route("/health", health),
              Route("/v1/chat/completions", _post(model, chat_completions), methods=["POST"]),
              Route("/v1/completions", _post(model, completions), methods=["POST"]),
              Route("/v1/responses", _post(model, responses), methods=["POST"])]
    handlers = {RequestError: request_error, HTTPException: http_error, Exception: server_error}
    return Starlette(routes=routes, exception_handlers=handlers)


class ModelServer:
    """Serves one engine under one model name on ``host:port`` (port 0: a free one)."""

    def __init__(self, engine: Engine, tokenizer, model_name: str, *, host: str = "127.0.0.1", port: int = 8000,
                 max_batch: int = 16, max_context: int | None = None, scorer: Scorer | None = None,
                 default_max_tokens: int | None = None, log_level: str = "warning"):
        self.model = ServedModel(engine, tokenizer, model_name, max_context=max_context, scorer=scorer,
                                 max_batch=max_batch, default_max_tokens=default_max_tokens)
        self.model_name = model_name
        try:
            self._socket = socket.create_server((host, port))
        except OSError as exc:
            self.model.close()
            raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror or exc})", where="--host/--port",
                              fix="pick a free port (--port) or stop what is using it") from None
        # accepted connections inherit TCP_NODELAY: asyncio sets it only on sockets made with an
        # explicit TCP protocol number, and without it a keep-alive response waits ~40 ms
        # (Nagle against the client's delayed ACK) between its headers and its body
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        config = uvicorn.Config(build_app(self.model), log_level=log_level, timeout_graceful_shutdown=5)
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @classmethod
    def from_model_dir(cls, path: str | Path, *, name: str | None = None, device: str = "cpu",
                       **kwargs) -> ModelServer:
        """An hf engine for a transformers dir, with top logprobs and its context length."""
        from tmax.engines.hf import HFEngine

        path = Path(path)
        config_file = path / "config.json"
        try:
            config = json.loads(config_file.read_text())
        except FileNotFoundError:
            raise ConfigError("no config.json here: not a transformers model dir (make one with `tmax models tiny "
                              "DIR`)", where=str(path)) from None
        except json.JSONDecodeError as exc:
            raise ConfigError(f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
                              where=str(config_file)) from None
        except UnicodeDecodeError:
            raise ConfigError("not valid JSON (not UTF-8 text)", where=str(config_file)) from None
        engine = HFEngine.from_pretrained(path, device=device)
        context = config.get("max_position_embeddings") if isinstance(config, dict) else None
        return cls(engine, engine.tokenizer, name or path.name, max_context=context, scorer=HFScorer(engine.model),
                   **kwargs)

    @property
    def url(self) -> str:
        host, port = self._socket.getsockname()[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> ModelServer:
        self._thread = threading.Thread(target=self.serve_forever, name="tmax-serve", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server at {self.url} did not start")
            time.sleep(0.01)
        return self

    def serve_forever(self) -> None:
        """Run in this thread until ``close()`` (or Ctrl-C in the main thread)."""
        self._server.run(sockets=[self._socket])

    def close(self) -> None:
        self._server.should_exit = True
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(30)
        self._socket.close()
        self.model.close()

    def __enter__(self) -> ModelServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
