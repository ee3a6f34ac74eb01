"""Verbs that train: ``tmax sft``, ``tmax train`` (RL), ``tmax recipe`` (every stage)."""

from __future__ import annotations

from pathlib import Path

import typer

from tmax.cli.console import console, progress_bars


def sft_cmd(
    config: Path = typer.Argument(..., help="TOML/YAML SFT config (see tmax.sft.train.SFTConfig)."),
    set_: list[str] = typer.Option([], "--set", help="Dotted override, e.g. epochs=3 or min_tool_calls=3."),
) -> None:
    """Supervised warm start on successful trajectories (tmax or Harbor job dirs); resumable."""
    from tmax.config import apply_overrides, build_config, read_config_file
    from tmax.sft.train import SFTConfig, train_sft

    cfg = build_config(SFTConfig, apply_overrides(read_config_file(config), set_), where=str(config))
    with progress_bars() as progress:
        bar = progress.add_task("SFT steps", total=None)

        def on_step(m: dict, total: int) -> None:
            progress.update(bar, completed=m["step"], total=total,
                            description=f"epoch {m['epoch']}: loss {m['loss']:.4f}")

        model_dir = train_sft(cfg, on_step=on_step)
    console.print(f"done: {model_dir} (metrics: {cfg.out}/metrics.jsonl)")


def train_cmd(
    config: Path = typer.Argument(..., help="TOML/YAML training config (see tmax.rl.config.TrainConfig)."),
    set_: list[str] = typer.Option([], "--set", help="Dotted override, e.g. step.loss=ppo_clip."),
) -> None:
    """Outcome-only RL (DPPO) in real sandboxes; resumes from the run dir's newest checkpoint."""
    from tmax.cluster import TRAINERS
    from tmax.config import apply_overrides, build_config, read_config_file
    from tmax.rl.config import TrainConfig
    from tmax.rl.train import train

    cfg = build_config(TrainConfig, apply_overrides(read_config_file(config), set_), where=str(config))
    with progress_bars() as progress:
        bar = progress.add_task("RL steps", total=cfg.steps)

        def on_step(m: dict, total: int) -> None:
            progress.update(bar, completed=m["step"], total=total, description=(
                f"step {m['step']}: reward {m['reward']:.3f} solve {m['solve_rate']:.2f} "
                f"groups {m['n_informative']}/{m['n_pulled']} stale {m['n_stale']}"))

        run_dir = train(cfg, TRAINERS[cfg.cluster.backend], on_step=on_step)
    console.print(f"done: {run_dir} (metrics.jsonl, checkpoints/, rollouts/)")


def recipe_cmd(
    config: Path = typer.Argument(None, help="TOML/YAML recipe config (default: the tiny CPU recipe, configs/tiny.toml)."),
    set_: list[str] = typer.Option([], "--set", help="Dotted override, e.g. rl.steps=10 or out=runs/try2."),
    seeds: str = typer.Option(None, "--seeds", help="Run once per seed into <out>/seed-<k>, then one report "
                                                     "across seeds, e.g. --seeds 0,1,2 (resumable)."),
) -> None:
    """The whole pipeline: tasks, oracle trajectories, tokenizer + model, SFT, eval, DPPO RL, eval, report."""
    from tmax.config import apply_overrides, build_config, read_config_file
    from tmax.recipe import RecipeConfig, run_recipe
    from tmax.recipe.seeds import parse_seeds, run_seeds

    data = read_config_file(config) if config else {}
    cfg = build_config(RecipeConfig, apply_overrides(data, set_), where=str(config or "tmax recipe"))
    seed_list = parse_seeds(seeds) if seeds is not None else None
    with progress_bars() as progress:
        bars: dict[str, int] = {}

        def bar_for(stage: str, total: int) -> int:
            if stage not in bars:
                bars[stage] = progress.add_task(stage, total=total)
            return bars[stage]

        def for_stage(stage: str):  # "sft", "rl-eval", ... or "seed-1/sft" under --seeds
            kind = stage.rsplit("/", 1)[-1]

            def on_trial(summary, done: int, total: int) -> None:  # eval stages
                progress.update(bar_for(stage, total), completed=done, description=f"{stage}: trials")

            def on_step(metrics: dict, total: int) -> None:  # sft and rl
                bar = bar_for(stage, total)
                shown = (f"loss {metrics['loss']:.4f}" if kind == "sft" else
                         f"reward {metrics['reward']:.3f} solve {metrics['solve_rate']:.2f}")
                progress.update(bar, completed=metrics["step"], description=f"{stage}: {shown}")

            return on_step if kind in ("sft", "rl") else on_trial

        say = lambda m: progress.console.print(m, markup=False, highlight=False)  # noqa: E731  "[sft] ..." is text
        report = (run_seeds(cfg, seed_list, log=say, progress=for_stage) if seed_list is not None
                  else run_recipe(cfg, log=say, progress=for_stage))
    console.print(report.read_text(), markup=False, highlight=False)
    console.print(f"report: {report} (plots beside it)")
