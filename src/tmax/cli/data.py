"""Verbs over task sets: ``tmax tasks validate``, ``tmax generate``, ``tmax data ...``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from tmax.cli.console import console, progress_bars


def tasks_validate(dirs: list[str] = typer.Argument(..., help="Task dirs, folders of task dirs, globs, dataset files.")) -> None:
    """Check task dirs (Harbor or Terminal-Bench 1 layout) and print a table of problems."""
    from tmax.tasks import resolve_task_dirs
    from tmax.tasks import check_task

    table = Table("task", "layout", "status", "problems")
    n_bad = 0
    for path in resolve_task_dirs(dirs):
        task, problems = check_task(path)
        errors = [p for p in problems if p.level == "error"]
        n_bad += bool(errors)
        status = "[red]invalid[/]" if errors else ("[yellow]ok (warnings)[/]" if problems else "[green]ok[/]")
        lines = [f"{'✗' if p.level == 'error' else '!'} {p.file}: {p.message}" + (f" → {p.fix}" if p.fix else "")
                 for p in problems]
        table.add_row(path.name, task.layout if task else "?", status, "\n".join(lines) or "-")
    console.print(table)
    if n_bad:
        console.print(f"[red]{n_bad} invalid task dir(s)[/]")
        raise typer.Exit(1)


def generate(
    out: Path = typer.Option(Path("tasks/generated"), "--out", "-o", help="Output dir (rerun to resume)."),
    writer: str = typer.Option("procedural", help="procedural (offline families) | llm (a served model)."),
    n: int = typer.Option(90, "-n", min=1, help="How many tasks."),
    seed: int = typer.Option(0, help="Seed: the same seed writes the same tasks."),
    domain: list[str] = typer.Option([], help="Only these domains (repeatable; procedural)."),
    difficulty: list[int] = typer.Option([], help="Only these difficulty levels 1-4 (repeatable; procedural)."),
    model: str = typer.Option(None, help="llm: served model name."),
    base_url: str = typer.Option("http://127.0.0.1:8000/v1", help="llm: OpenAI-compatible server."),
    concurrency: int = typer.Option(4, "-c", "--concurrency", min=1, help="llm: tasks written at once."),
    max_attempts: int = typer.Option(2, help="llm: asks per task when a reply is unusable."),
    validate_oracle: bool = typer.Option(False, help="llm: keep a task only if its solution scores 1."),
    sandbox: str = typer.Option("podman", help="llm: backend for the build filter / oracle check."),
) -> None:
    """Generate Harbor task dirs: offline procedural families, or written by a model from sampled signatures."""
    from tmax.errors import ConfigError

    with progress_bars(transient=True) as progress:
        bar = progress.add_task(f"{writer} tasks", total=n)
        if writer == "procedural":
            from tmax.envgen.procedural import generate as procedural

            made = procedural(n, out, seed=seed, domains=domain or None, difficulties=difficulty or None,
                              on_task=lambda path, new: progress.advance(bar))
            console.print(f"{len(made)} tasks in {out}")
        elif writer == "llm":
            import os

            from tmax.engines.openai import OpenAIClient
            from tmax.envgen.llm import generate as llm

            if not model:
                raise ConfigError("no writer model given", where="--model", fix="pass the served model name")
            client = OpenAIClient(base_url, model, api_key=os.environ.get("OPENAI_API_KEY"))
            client.check()
            outcomes = llm(n, out, client, seed=seed, concurrency=concurrency, max_attempts=max_attempts,
                           backend=sandbox, validate_oracle=validate_oracle, on_task=lambda o: progress.advance(bar))
            kept = sum(o.kept for o in outcomes)
            console.print(f"kept {kept}, rejected {len(outcomes) - kept} (reasons in {out}/_rejected/*/REJECTED.txt)")
        else:
            raise ConfigError(f"unknown writer {writer!r}", where="--writer", fix="use procedural or llm")


def data_stats(
    dirs: list[str] = typer.Argument(..., help="Task dirs, folders of task dirs, globs, dataset files."),
    out: Path = typer.Option(Path("data-stats"), "--out", "-o", help="Folder for stats.md, stats.json and PNGs."),
) -> None:
    """Counts and balance (exp(H)/N) of every taxonomy axis over a task set."""
    from tmax.envgen.stats import stats, write_stats

    path = write_stats(stats(dirs), out)
    typer.echo(path.read_text().split("\n## ")[0])  # the summary table; per-axis tables stay in the file
    console.print(f"[dim]written: {path} and the charts beside it[/]")


def data_difficulty(
    job_dirs: list[Path] = typer.Argument(..., help="Eval job dirs (tmax or Harbor) of one reference model."),
    model: str = typer.Option(None, help="The model to read when the jobs hold several."),
    out: Path = typer.Option(Path("data-difficulty"), "--out", "-o", help="Folder for difficulty.md/.json + PNG."),
) -> None:
    """Per-task pass@1 and pass@8 (where a task has 8+ attempts) and their means."""
    from tmax.envgen.stats import difficulty, write_difficulty

    path = write_difficulty(difficulty(job_dirs, model=model), out)
    typer.echo(path.read_text())
    console.print(f"[dim]written: {path}[/]")


def data_contamination(
    dirs: list[str] = typer.Argument(..., help="Generated task dirs, folders of them, globs, dataset files."),
    against: list[str] = typer.Option(..., "--against", help="Benchmark task dirs or folders (repeatable)."),
    n: int = typer.Option(13, "-n", min=1, help="n-gram length in words."),
    out: Path = typer.Option(Path("data-contamination"), "--out", "-o", help="Folder for the report."),
) -> None:
    """n-gram overlap of generated tasks with benchmark tasks (target: 0%)."""
    from tmax.envgen.contamination import contamination, write_contamination

    path = write_contamination(contamination(dirs, against, n=n), out)
    typer.echo(path.read_text())
    console.print(f"[dim]written: {path}[/]")


def data_export(
    dirs: list[str] = typer.Argument(..., help="Task dirs, folders of task dirs, globs, dataset files."),
    out: Path = typer.Option(..., "--out", "-o", help="The .parquet file to write."),
) -> None:
    """Write tasks to one Parquet file (every file embedded; loads with datasets.load_dataset)."""
    from tmax.envgen.dataset import export_parquet

    console.print(f"{export_parquet(dirs, out)} tasks written to {out}")


def data_import(
    file: Path = typer.Argument(..., help="A .parquet file written by `tmax data export`."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to restore the task dirs into."),
) -> None:
    """Restore task dirs (bytes and exec bits) from a Parquet file."""
    from tmax.envgen.dataset import import_parquet

    console.print(f"{len(import_parquet(file, out))} tasks restored under {out}")


def data_convert_tb1(
    src: list[str] = typer.Argument(..., help="Terminal-Bench 1 task dirs or folders of them."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the Harbor task dirs (one per task)."),
) -> None:
    """Convert Terminal-Bench 1 tasks (task.yaml, run-tests.sh, solution.sh) to the Harbor layout."""
    from tmax.envgen.dataset import convert_tb1_all

    console.print(f"{len(convert_tb1_all(src, out))} tasks converted into {out}")


def data_pull(
    ref: str = typer.Argument(..., help="NAME@VERSION of a dataset in a Harbor registry (org/name@ref: Harbor Hub)."),
    out: Path = typer.Option(Path("datasets"), "--out", "-o", help="Folder for the tasks and the dataset file."),
    registry_path: Path = typer.Option(None, help="A local registry.json (or its folder): works offline."),
    registry_url: str = typer.Option(None, help="A registry.json over HTTP."),
    repo: str = typer.Option(None, help="A git repo with a registry (org/name or URL, optionally @ref)."),
    overwrite: bool = typer.Option(False, help="Download tasks again even if present."),
) -> None:
    """Download a dataset through Harbor's registry client (run in .venv-harbor); writes OUT/NAME@VERSION.json."""
    from tmax.harbor.registry import pull

    pulled = pull(ref, out, registry_path=registry_path, registry_url=registry_url, repo=repo, overwrite=overwrite)
    table = Table("task", "path")
    for task in pulled.tasks:
        table.add_row(task["name"], task["path"])
    console.print(table)
    console.print(f"{len(pulled.tasks)} tasks; dataset file {pulled.dataset_file} "
                  f"(tmax eval {pulled.dataset_file} ...)")


def expand_harbor_refs(specs: list[str], out: Path = Path("datasets")) -> list[str]:
    """``harbor:NAME@VERSION`` task specs pulled from Harbor's default registry, as dataset files."""
    if not any(spec.startswith("harbor:") for spec in specs):
        return specs
    from tmax.harbor.registry import pull

    return [str(pull(spec.removeprefix("harbor:"), out).dataset_file) if spec.startswith("harbor:") else spec
            for spec in specs]
