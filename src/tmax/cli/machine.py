"""Verbs that set up this machine: ``tmax images ...``, ``tmax sandbox prune``, ``tmax models tiny``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from tmax.cli.console import console


def images_bootstrap(
    force: bool = typer.Option(False, help="Rebuild even if present."),
    host_ca: bool = typer.Option(True, help="Trust the host's CA bundle inside images (TLS proxies)."),
) -> None:
    """Build the local Debian base image and the offline verifier layer."""
    from tmax.sandbox.images import base_rootfs, bootstrap
    from tmax.trial.layer import prepare_layer

    image = bootstrap(force=force, host_ca=host_ca, log=lambda m: console.print(f"[dim]{m}[/]"))
    layer = prepare_layer(force=force)
    console.print(f"base image {image}\nbase rootfs {base_rootfs()}\nverifier layer {layer}")


def images_aliases() -> None:
    """Show which registry images resolve to local bases when absent."""
    from tmax.sandbox.images import ALIASES

    table = Table("pattern", "local image")
    for pattern, target in ALIASES.items():
        table.add_row(pattern, target)
    console.print(table)


def sandbox_prune(engine: str = typer.Option("podman", help="podman | docker")) -> None:
    """Remove sandboxes left behind by killed tmax processes."""
    from tmax.sandbox.container import prune

    console.print(f"removed {prune(engine)} container(s)")


def models_tiny(
    out: Path = typer.Argument(..., help="Where to write the model dir."),
    seed: int = typer.Option(0, help="Weight initialisation seed."),
    hidden_size: int = typer.Option(64, help="Width."),
    num_layers: int = typer.Option(2, help="Layers."),
) -> None:
    """Build a tiny Qwen3-architecture model and a locally trained tokenizer (no downloads)."""
    from tmax.engines.tiny import TinyConfig, build_tiny_model

    path = build_tiny_model(out, TinyConfig(seed=seed, hidden_size=hidden_size, num_layers=num_layers))
    console.print(f"tiny model written to {path}")
