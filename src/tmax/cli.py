"""`tmax <verb>`: one thin function per verb; the work lives in the packages."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tmax.errors import TmaxError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="tmax: terminal tasks, sandboxes, agents, RL.")
tasks_app = typer.Typer(no_args_is_help=True, help="Inspect and validate task directories.")
images_app = typer.Typer(no_args_is_help=True, help="Offline base images.")
sandbox_app = typer.Typer(no_args_is_help=True, help="Sandbox housekeeping.")
models_app = typer.Typer(no_args_is_help=True, help="Local models.")
data_app = typer.Typer(no_args_is_help=True, help="Dataset statistics, difficulty, contamination, import/export.")
app.add_typer(tasks_app, name="tasks")
app.add_typer(images_app, name="images")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(models_app, name="models")
app.add_typer(data_app, name="data")
console = Console()


@tasks_app.command("validate")
def tasks_validate(dirs: list[str] = typer.Argument(..., help="Task dirs, folders of task dirs, globs, dataset files.")) -> None:
    """Check task dirs (Harbor or Terminal-Bench 1 layout) and print a table of problems."""
    from tmax.eval.job import resolve_task_dirs
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


def _trial_table(trials, title: str) -> Table:
    table = Table("trial", "reward", "error", title=title)
    for t in sorted(trials, key=lambda t: t.name):
        table.add_row(t.name, "-" if t.reward is None else f"{t.reward:g}", t.error or "")
    return table


def _run_job(cfg) -> tuple[Path, list]:
    """Run an eval job with a progress bar; returns the job dir and this invocation's trials."""
    from tmax.eval.job import run_eval

    summaries = []
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=True) as progress:
        bar = progress.add_task(f"{cfg.agent} on {cfg.sandbox}", total=None)

        def on_trial(summary, done: int, total: int) -> None:
            summaries.append(summary)
            progress.update(bar, completed=done, total=total)

        job_dir = run_eval(cfg, on_trial=on_trial)
    return job_dir, summaries


@app.command("run")
def run(
    tasks: list[str] = typer.Argument(..., help="Task dirs, folders of task dirs, globs or dataset files."),
    agent: str = typer.Option("oracle", help="Agent: oracle | noop | scripted."),
    sandbox: str = typer.Option("podman", help="Sandbox backend: podman | docker | bwrap | apptainer."),
    jobs_dir: Path = typer.Option(Path("jobs"), help="Where job dirs are written."),
    job_name: str = typer.Option(None, help="Job dir name (default: a timestamp); reuse one to resume."),
    concurrency: int = typer.Option(1, "-n", "--concurrency", min=1, help="Trials at once."),
) -> None:
    """One trial per task with a model-free agent (a quick check that tasks and verifiers work)."""
    from tmax.eval.job import EvalConfig

    from tmax.eval.report import load_job

    cfg = EvalConfig(tasks=tasks, agent=agent, sandbox=sandbox, concurrency=concurrency, jobs_dir=str(jobs_dir),
                     job_name=job_name)
    job_dir, ran = _run_job(cfg)
    trials = load_job(job_dir).trials
    console.print(_trial_table(trials, f"{agent} on {sandbox}: {job_dir}"))
    rewards = [t.reward or 0.0 for t in trials]
    n_err = sum(t.error is not None for t in trials)
    console.print(f"mean reward {sum(rewards) / max(len(rewards), 1):.3f} over {len(trials)} trial(s), "
                  f"{len(ran)} run now (errors count 0: {n_err})")
    if n_err:
        raise typer.Exit(1)


@app.command("eval")
def eval_(
    tasks: list[str] = typer.Argument(..., help="Task dirs, folders of task dirs, globs or dataset files (.txt/.json)."),
    agent: str = typer.Option(None, help="oracle (default) | stepwise | noop | scripted, or a model: openai | hf | vllm."),
    model: str = typer.Option(None, help="Served model name (openai) or model dir (hf, vllm)."),
    base_url: str = typer.Option(None, help="OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1."),
    tokenizer: str = typer.Option(None, help="openai: local tokenizer dir; turns on token-id completions."),
    sandbox: str = typer.Option(None, help="podman | docker | bwrap | apptainer (default podman)."),
    runs: int = typer.Option(None, "-k", "--runs", min=1, help="Attempts per task (default 1)."),
    concurrency: int = typer.Option(None, "-n", "--concurrency", min=1, help="Trials at once (default 4)."),
    jobs_dir: Path = typer.Option(None, help="Where job dirs go (default jobs/)."),
    job_name: str = typer.Option(None, help="Job dir name; reuse one to resume."),
    config: Path = typer.Option(None, help="TOML/YAML file with eval settings (see EvalConfig)."),
    set_: list[str] = typer.Option([], "--set", help="Dotted override, e.g. engine.sampling.temperature=0.6."),
) -> None:
    """Evaluate an agent: tasks x runs, resumable, Harbor-compatible trial dirs, metrics in job.json."""
    from tmax.config import apply_overrides, build_config, read_config_file, set_dotted
    from tmax.eval.job import EvalConfig
    from tmax.eval.report import load_job, summarize
    from tmax.io import write_json_atomic

    data = read_config_file(config) if config else {}
    data["tasks"] = tasks
    for key, value in {"agent": agent, "sandbox": sandbox, "runs": runs, "concurrency": concurrency,
                       "jobs_dir": str(jobs_dir) if jobs_dir else None, "job_name": job_name, "engine.model": model,
                       "engine.base_url": base_url, "engine.tokenizer": tokenizer}.items():
        if value is not None:
            set_dotted(data, key, value)
    cfg = build_config(EvalConfig, apply_overrides(data, set_), where=str(config or "tmax eval options"))
    job_dir, summaries = _run_job(cfg)
    [summary] = summarize([load_job(job_dir)])
    job = json.loads((job_dir / "job.json").read_text())
    job["metrics"] = summary.to_dict()
    write_json_atomic(job_dir / "job.json", job)
    _print_summary(summary, job_dir)


def _print_summary(summary, job_dir: Path) -> None:
    table = Table("metric", "value", title=f"{summary.label}: {job_dir}")
    table.add_row("score (mean ± SEM over runs)", f"{summary.mean:.3f} ± {summary.sem:.3f}")
    table.add_row("runs / tasks / trials", f"{len(summary.run_scores)} / {len(summary.attempts)} / {summary.n_trials}")
    table.add_row("run scores", " ".join(f"{x:.3f}" for x in summary.run_scores))
    for k, value in summary.pass_at.items():
        table.add_row(f"pass@{k}", f"{value:.3f}")
    table.add_row("errored trials (count 0)", str(len(summary.errors)))
    console.print(table)
    for trial in summary.errors[:20]:
        console.print(f"[red]error[/] {trial.name or trial.task}: {trial.error}", highlight=False)
    console.print(f"[dim]per-task and per-domain tables, plots: tmax report {job_dir}[/]")


@app.command("train")
def train_cmd(
    config: Path = typer.Argument(..., help="TOML/YAML training config (see tmax.rl.train.TrainConfig)."),
    set_: list[str] = typer.Option([], "--set", help="Dotted override, e.g. step.loss=ppo_clip."),
) -> None:
    """Outcome-only RL (DPPO) in real sandboxes; resumes from the run dir's newest checkpoint."""
    from tmax.config import apply_overrides, build_config, read_config_file
    from tmax.rl.train import TrainConfig, train

    cfg = build_config(TrainConfig, apply_overrides(read_config_file(config), set_), where=str(config))
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console) as progress:
        bar = progress.add_task("RL steps", total=cfg.steps)

        def on_step(m: dict) -> None:
            progress.update(bar, completed=m["step"], description=(
                f"step {m['step']}: reward {m['reward']:.3f} solve {m['solve_rate']:.2f} "
                f"groups {m['n_informative']}/{m['n_pulled']} stale {m['n_stale']}"))

        run_dir = train(cfg, on_step=on_step)
    console.print(f"done: {run_dir} (metrics.jsonl, checkpoints/, rollouts/)")


@app.command("sft")
def sft_cmd(
    config: Path = typer.Argument(..., help="TOML/YAML SFT config (see tmax.sft.train.SFTConfig)."),
    set_: list[str] = typer.Option([], "--set", help="Dotted override, e.g. epochs=3 or min_tool_calls=3."),
) -> None:
    """Supervised warm start on successful trajectories (tmax or Harbor job dirs); resumable."""
    from tmax.config import apply_overrides, build_config, read_config_file
    from tmax.sft.train import SFTConfig, train_sft

    cfg = build_config(SFTConfig, apply_overrides(read_config_file(config), set_), where=str(config))
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console) as progress:
        bar = progress.add_task("SFT steps", total=None)

        def on_step(m: dict, total: int) -> None:
            progress.update(bar, completed=m["step"], total=total,
                            description=f"epoch {m['epoch']}: loss {m['loss']:.4f}")

        model_dir = train_sft(cfg, on_step=on_step)
    console.print(f"done: {model_dir} (metrics: {cfg.out}/metrics.jsonl)")


@app.command("recipe")
def recipe_cmd(
    config: Path = typer.Argument(None, help="TOML/YAML recipe config (default: the tiny CPU recipe, configs/tiny.toml)."),
    set_: list[str] = typer.Option([], "--set", help="Dotted override, e.g. rl.steps=10 or out=runs/try2."),
) -> None:
    """The whole pipeline: tasks, oracle trajectories, tokenizer + model, SFT, eval, DPPO RL, eval, report."""
    from tmax.config import apply_overrides, build_config, read_config_file
    from tmax.recipe import RecipeConfig, run_recipe

    data = read_config_file(config) if config else {}
    cfg = build_config(RecipeConfig, apply_overrides(data, set_), where=str(config or "tmax recipe"))
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console) as progress:
        bars: dict[str, int] = {}

        def bar_for(stage: str, total: int) -> int:
            if stage not in bars:
                bars[stage] = progress.add_task(stage, total=total)
            return bars[stage]

        def for_stage(stage: str):
            def on_trial(summary, done: int, total: int) -> None:  # eval stages
                progress.update(bar_for(stage, total), completed=done, description=f"{stage}: trials")

            def on_step(metrics: dict, total: int | None = None) -> None:  # sft (with total) and rl
                bar = bar_for(stage, total or cfg.rl["steps"])
                shown = (f"loss {metrics['loss']:.4f}" if stage == "sft" else
                         f"reward {metrics['reward']:.3f} solve {metrics['solve_rate']:.2f}")
                progress.update(bar, completed=metrics["step"], description=f"{stage}: {shown}")

            return on_step if stage in ("sft", "rl") else on_trial

        report = run_recipe(cfg, log=lambda m: progress.console.print(m), progress=for_stage)
    console.print(report.read_text(), markup=False, highlight=False)
    console.print(f"report: {report} (plots beside it)")


@app.command("serve")
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


@app.command("generate")
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

    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=True) as progress:
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


@data_app.command("stats")
def data_stats(
    dirs: list[str] = typer.Argument(..., help="Task dirs, folders of task dirs, globs, dataset files."),
    out: Path = typer.Option(Path("data-stats"), "--out", "-o", help="Folder for stats.md, stats.json and PNGs."),
) -> None:
    """Counts and balance (exp(H)/N) of every taxonomy axis over a task set."""
    from tmax.envgen.stats import stats, write_stats

    path = write_stats(stats(dirs), out)
    typer.echo(path.read_text().split("\n## ")[0])  # the summary table; per-axis tables stay in the file
    console.print(f"[dim]written: {path} and the charts beside it[/]")


@data_app.command("difficulty")
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


@data_app.command("contamination")
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


@data_app.command("export")
def data_export(
    dirs: list[str] = typer.Argument(..., help="Task dirs, folders of task dirs, globs, dataset files."),
    out: Path = typer.Option(..., "--out", "-o", help="The .parquet file to write."),
) -> None:
    """Write tasks to one Parquet file (every file embedded; loads with datasets.load_dataset)."""
    from tmax.envgen.dataset import export_parquet

    console.print(f"{export_parquet(dirs, out)} tasks written to {out}")


@data_app.command("import")
def data_import(
    file: Path = typer.Argument(..., help="A .parquet file written by `tmax data export`."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to restore the task dirs into."),
) -> None:
    """Restore task dirs (bytes and exec bits) from a Parquet file."""
    from tmax.envgen.dataset import import_parquet

    console.print(f"{len(import_parquet(file, out))} tasks restored under {out}")


@data_app.command("convert-tb1")
def data_convert_tb1(
    src: list[str] = typer.Argument(..., help="Terminal-Bench 1 task dirs or folders of them."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the Harbor task dirs (one per task)."),
) -> None:
    """Convert Terminal-Bench 1 tasks (task.yaml, run-tests.sh, solution.sh) to the Harbor layout."""
    from tmax.envgen.dataset import convert_tb1_all

    console.print(f"{len(convert_tb1_all(src, out))} tasks converted into {out}")


@models_app.command("tiny")
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


@app.command("report")
def report(
    job_dirs: list[Path] = typer.Argument(..., help="Job dirs written by `tmax eval` or by Harbor."),
    out: Path = typer.Option(Path("report"), "--out", "-o", help="Folder for report.md and the PNG plots."),
) -> None:
    """Compare job results side by side: Markdown table (mean ± SEM, pass@k, per task) and PNG plots."""
    from tmax.eval.report import write_report

    path = write_report(job_dirs, out)
    typer.echo(path.read_text())  # plain: rich would re-wrap the Markdown tables
    console.print(f"[dim]written: {path} and the plots beside it[/]")


@images_app.command("bootstrap")
def images_bootstrap(
    force: bool = typer.Option(False, help="Rebuild even if present."),
    host_ca: bool = typer.Option(True, help="Trust the host's CA bundle inside images (TLS proxies)."),
) -> None:
    """Build the local Debian base image and the offline verifier layer."""
    from tmax.sandbox.images import base_rootfs, bootstrap
    from tmax.sandbox.verifier_tools import prepare_layer

    image = bootstrap(force=force, host_ca=host_ca, log=lambda m: console.print(f"[dim]{m}[/]"))
    layer = prepare_layer(force=force)
    console.print(f"base image {image}\nbase rootfs {base_rootfs()}\nverifier layer {layer}")


@images_app.command("aliases")
def images_aliases() -> None:
    """Show which registry images resolve to local bases when absent."""
    from tmax.sandbox.images import ALIASES

    table = Table("pattern", "local image")
    for pattern, target in ALIASES.items():
        table.add_row(pattern, target)
    console.print(table)


@sandbox_app.command("prune")
def sandbox_prune(engine: str = typer.Option("podman", help="podman | docker")) -> None:
    """Remove sandboxes left behind by killed tmax processes."""
    from tmax.sandbox.container import prune

    console.print(f"removed {prune(engine)} container(s)")


def main() -> None:
    try:
        app()
    except TmaxError as exc:
        console.print(f"[red]error:[/] {exc}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
