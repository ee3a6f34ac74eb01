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
) -> None:
    """Serve a model in-process over OpenAI-compatible HTTP routes (/v1/models, chat, completions)."""
    from tmax.engines.hf import HFEngine
    from tmax.engines.server import ModelServer

    engine = HFEngine.from_pretrained(model, device=device)
    server = ModelServer(engine, engine.tokenizer, name or model.name, host=host, port=port)
    console.print(f"serving {server.model_name} at {server.url} (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.close()
