"""``tmax serve``: a model behind OpenAI-compatible HTTP routes."""

from __future__ import annotations

from pathlib import Path

import typer

from tmax.cli.console import console


def serve(
    model: Path = typer.Argument(..., help="A transformers model dir (e.g. from `tmax models tiny`)."),
    name: str = typer.Option(None, help="Model name clients ask for (default: the dir name)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port."),
    device: str = typer.Option("cpu", help="torch device."),
    max_batch: int = typer.Option(16, min=1, help="Most requests sampled in one engine batch."),
    default_max_tokens: int = typer.Option(None, min=1, help="Reply length for requests that set none "
                                                                "(default: the rest of the context, as vLLM)."),
) -> None:
    """Serve a model in-process over OpenAI-compatible HTTP: /v1/models, chat completions, completions and
    the Responses API (Codex CLI), streaming included."""
    from tmax.errors import ConfigError

    try:
        from tmax.serve import ModelServer
    except ImportError as exc:
        raise ConfigError(f"tmax serve needs the serve extra ({exc.name} is not installed)",
                          fix="pip install -e '.[serve]' (scripts/setup.sh installs it)") from None

    server = ModelServer.from_model_dir(model, name=name, device=device, host=host, port=port, max_batch=max_batch,
                                        default_max_tokens=default_max_tokens, log_level="info")
    console.print(f"serving {server.model_name} at {server.url} (Ctrl-C stops)")
    try:
        server.serve_forever()
    finally:
        server.close()
