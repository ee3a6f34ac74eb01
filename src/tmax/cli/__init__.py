"""`tmax <verb>`: one thin function per verb; the work lives in the packages.

This file is the index of the command line: which function answers which verb. The verbs
live by what they work on: ``data`` (task sets), ``evaluation`` (trials, jobs, reports), ``train``
(SFT, RL, the recipe), ``serve``, ``machine`` (images, sandboxes, local models).
"""

from __future__ import annotations

import sys

import typer

from tmax.cli import data, evaluation, machine, serve, train
from tmax.cli.console import console
from tmax.errors import TmaxError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="tmax: terminal tasks, sandboxes, agents, RL.")
tasks_app = typer.Typer(no_args_is_help=True, help="Inspect and validate task directories.")
images_app = typer.Typer(no_args_is_help=True, help="Offline base images.")
sandbox_app = typer.Typer(no_args_is_help=True, help="Sandbox housekeeping.")
models_app = typer.Typer(no_args_is_help=True, help="Local models.")
data_app = typer.Typer(no_args_is_help=True, help="Dataset statistics, difficulty, contamination, import/export.")
cache_app = typer.Typer(no_args_is_help=True, help="tmax's cache: unpacked images, verifier layer, disk images.")
app.add_typer(tasks_app, name="tasks")
app.add_typer(images_app, name="images")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(models_app, name="models")
app.add_typer(data_app, name="data")
app.add_typer(cache_app, name="cache")

tasks_app.command("validate")(data.tasks_validate)
app.command("run")(evaluation.run)
app.command("eval")(evaluation.eval_)
app.command("train")(train.train_cmd)
app.command("sft")(train.sft_cmd)
app.command("recipe")(train.recipe_cmd)
app.command("serve")(serve.serve)
app.command("generate")(data.generate)
data_app.command("stats")(data.data_stats)
data_app.command("difficulty")(data.data_difficulty)
data_app.command("contamination")(data.data_contamination)
data_app.command("export")(data.data_export)
data_app.command("import")(data.data_import)
data_app.command("convert-tb1")(data.data_convert_tb1)
data_app.command("pull")(data.data_pull)
models_app.command("tiny")(machine.models_tiny)
app.command("report")(evaluation.report)
images_app.command("bootstrap")(machine.images_bootstrap)
images_app.command("aliases")(machine.images_aliases)
sandbox_app.command("prune")(machine.sandbox_prune)
cache_app.command("sizes")(machine.cache_sizes)
cache_app.command("prune")(machine.cache_prune)


def main() -> None:
    try:
        app()
    except TmaxError as exc:
        console.print(f"[red]error:[/] {exc}", highlight=False)
        sys.exit(2)
