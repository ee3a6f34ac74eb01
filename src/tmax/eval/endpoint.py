"""The model endpoint of an eval with an outside harness (``tmax eval --harness NAME``).

``--agent openai``: the server at ``engine.base_url`` serving ``engine.model``, checked once
before any trial (``GET /models``). ``--agent hf``: the transformers dir ``engine.model`` served
by ``tmax serve`` in this process, on a free loopback port, for as long as the job runs.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import httpx

from tmax.errors import ConfigError
from tmax.harnesses import Endpoint


def _check(endpoint: Endpoint) -> None:
    url = endpoint.base_url.rstrip("/") + "/models"
    try:
        reply = httpx.get(url, headers={"Authorization": f"Bearer {endpoint.api_key}"}, timeout=30)
    except httpx.HTTPError as exc:
        raise ConfigError(f"cannot reach the model server ({type(exc).__name__}: {exc})", where=url,
                          fix="start it (e.g. `tmax serve MODEL_DIR`) or fix --base-url") from None
    if reply.status_code != 200:
        raise ConfigError(f"the model server answered {reply.status_code}: {reply.text[:300]}", where=url,
                          fix="check --base-url and the API key (engine.api_key_env)")
    served = [m.get("id") for m in (reply.json().get("data") or []) if isinstance(m, dict)]
    if served and endpoint.model not in served:
        raise ConfigError(f"the server does not serve {endpoint.model!r} (it serves: {', '.join(map(str, served))})",
                          where="--model", fix="pass one of the served model names")


@contextlib.contextmanager
def model_endpoint(cfg) -> Iterator[Endpoint]:
    """The endpoint for ``cfg`` (an EvalConfig whose agent is openai or hf), up for the job."""
    engine = cfg.engine
    if not engine.model:
        raise ConfigError("no model given", where="--model",
                          fix="a model dir (--agent hf, served for the job) or a served name with --base-url")
    if cfg.agent == "openai":
        endpoint = Endpoint(engine.base_url, engine.model, os.environ.get(engine.api_key_env) or "unused")
        _check(endpoint)
        yield endpoint
        return
    try:
        from tmax.serve import ModelServer
    except ImportError as exc:
        raise ConfigError(f"serving a model dir needs the serve extra ({exc.name} is not installed)",
                          fix="pip install -e '.[serve]', or serve it elsewhere and pass --agent openai --base-url"
                          ) from None
    server = ModelServer.from_model_dir(Path(engine.model), device=engine.device, port=0,
                                        max_batch=max(cfg.concurrency, 1))
    with server:
        yield Endpoint(server.url, server.model_name)
