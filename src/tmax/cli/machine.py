"""Verbs that set up this machine: ``tmax images ...``, ``tmax sandbox prune``, ``tmax cache ...``,
``tmax models tiny``."""

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
    """Remove sandboxes whose tmax process is gone (containers, bwrap dirs, cgroups and disk
    quotas); those of running tmax processes stay."""
    import shutil

    from tmax.sandbox import bwrap, container, podman_store

    containers = container.prune(engine) if shutil.which(engine) else 0
    console.print(f"removed {containers} container(s) and {bwrap.prune()} bwrap sandbox(es)")
    trimmed = podman_store.trim() if engine == "podman" else None
    if trimmed:
        console.print(f"gave {trimmed / 2**20:,.0f} MB that containers had freed back to the host (podman store)")


def cache_sizes() -> None:
    """Disk used by each kind of cached thing (hard links shared with the base counted once)."""
    from tmax.sandbox import cache, podman_store

    table = Table("kind", "size")
    found = cache.sizes()
    for kind, size in found.items():
        table.add_row(kind, f"{size / 2**20:,.0f} MB")
    table.add_row("[bold]total[/]", f"{sum(found.values()) / 2**20:,.0f} MB")
    store = podman_store.usage()
    if store:  # not in TMAX_CACHE (nor in the total): podman's images and containers; `podman image prune`
        table.add_row(f"podman store ({podman_store.configured_root()}, not in the total)",
                      f"{store['on_host'] / 2**20:,.0f} MB on the host ({store['used'] / 2**20:,.0f} MB in use)")
    console.print(table)


def cache_prune(
    older_than: float = typer.Option(None, "--older-than", help="Remove task rootfs dirs unused for this many days."),
    max_size: float = typer.Option(None, "--max-size", help="Then remove the least recently used until task "
                                                            "rootfs dirs take at most this many GB."),
    all_: bool = typer.Option(False, "--all", help="Remove every task rootfs dir not in use."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only list what would go."),
) -> None:
    """Remove unpacked task images (bwrap/apptainer rootfs dirs) by age or size; never the base,
    never one a running sandbox uses."""
    from tmax.errors import ConfigError
    from tmax.sandbox import cache

    if older_than is None and max_size is None and not all_:
        raise ConfigError("say what to prune", where="tmax cache prune",
                          fix="pass --older-than DAYS, --max-size GB or --all")
    removed = cache.prune(older_than_days=0 if all_ else older_than,
                          max_bytes=None if max_size is None else int(max_size * 2**30), dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    console.print(f"{verb} {len(removed)} task rootfs dir(s), {sum(e.size for e in removed) / 2**20:,.0f} MB")


def models_tiny(
    out: Path = typer.Argument(..., help="Where to write the model dir."),
    seed: int = typer.Option(0, help="Weight initialisation seed."),
    hidden_size: int = typer.Option(64, help="Width (num_heads x head_dim)."),
    num_layers: int = typer.Option(2, help="Layers."),
    num_heads: int = typer.Option(2, help="Attention heads; hidden_size / num_heads >= 32 (vLLM's CPU kernels)."),
) -> None:
    """Build a tiny Qwen3-architecture model and a locally trained tokenizer (no downloads)."""
    from tmax.config import build_config
    from tmax.engines.tiny import TinyConfig, build_tiny_model

    config = build_config(TinyConfig, {"seed": seed, "hidden_size": hidden_size, "num_layers": num_layers,
                                       "num_heads": num_heads, "num_kv_heads": 1}, where="tmax models tiny")
    path = build_tiny_model(out, config)
    console.print(f"tiny model written to {path}")
