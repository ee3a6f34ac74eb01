"""Verbs that run trials and compare them: ``tmax run``, ``tmax eval``, ``tmax report``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from tmax.cli.console import console, progress_bars
from tmax.cli.data import expand_harbor_refs


def _trial_table(trials, title: str) -> Table:
    table = Table("trial", "reward", "error", title=title)
    for t in sorted(trials, key=lambda t: t.name):
        table.add_row(t.name, "-" if t.reward is None else f"{t.reward:g}", t.error or "")
    return table


def _run_job(cfg) -> tuple[Path, list]:
    """Run an eval job with a progress bar; returns the job dir and this invocation's trials."""
    from tmax.eval.job import run_eval

    summaries = []
    with progress_bars(transient=True) as progress:
        who = cfg.agent if cfg.harness_name == "tmax" else f"{cfg.harness_name} ({cfg.agent})"
        bar = progress.add_task(f"{who} on {cfg.sandbox}", total=None)

        def on_trial(summary, done: int, total: int) -> None:
            summaries.append(summary)
            progress.update(bar, completed=done, total=total)

        job_dir = run_eval(cfg, on_trial=on_trial)
    return job_dir, summaries


def run(
    tasks: list[str] = typer.Argument(..., help="Task dirs, folders of task dirs, globs, dataset files or "
                                           "harbor:NAME@VERSION."),
    agent: str = typer.Option("oracle", help="Agent: oracle | noop | scripted."),
    sandbox: str = typer.Option("podman", help="Sandbox backend: podman | docker | bwrap | apptainer."),
    jobs_dir: Path = typer.Option(Path("jobs"), help="Where job dirs are written."),
    job_name: str = typer.Option(None, help="Job dir name (default: a timestamp); reuse one to resume."),
    concurrency: int = typer.Option(1, "-n", "--concurrency", min=1, help="Trials at once."),
) -> None:
    """One trial per task with a model-free agent (a quick check that tasks and verifiers work)."""
    from tmax.eval.job import EvalConfig
    from tmax.eval.report import load_job

    cfg = EvalConfig(tasks=expand_harbor_refs(tasks), agent=agent, sandbox=sandbox, concurrency=concurrency, jobs_dir=str(jobs_dir),
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


def eval_(
    tasks: list[str] = typer.Argument(..., help="Task dirs, folders of task dirs, globs, dataset files (.txt/.json) "
                                           "or harbor:NAME@VERSION (pulled into datasets/ first)."),
    agent: str = typer.Option(None, help="oracle (default) | stepwise | noop | scripted, or a model: openai | hf | vllm."),
    harness: str = typer.Option(None, help="Agent loop: tmax (default) | mini-swe-agent | codex. An outside harness "
                                           "needs a model: --model DIR (served for the job) or --base-url + --model."),
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

    data = read_config_file(config) if config else {}
    data["tasks"] = expand_harbor_refs(tasks)
    if harness not in (None, "tmax") and agent is None and "agent" not in data:
        agent = "openai" if base_url else "hf"  # a model is needed: served by URL, or a dir served for the job
    for key, value in {"harness_name": harness, "agent": agent, "sandbox": sandbox, "runs": runs, "concurrency": concurrency,
                       "jobs_dir": str(jobs_dir) if jobs_dir else None, "job_name": job_name, "engine.model": model,
                       "engine.base_url": base_url, "engine.tokenizer": tokenizer}.items():
        if value is not None:
            set_dotted(data, key, value)
    cfg = build_config(EvalConfig, apply_overrides(data, set_), where=str(config or "tmax eval options"))
    job_dir, _ = _run_job(cfg)
    [summary] = summarize([load_job(job_dir)])  # what run_eval wrote to job.json, for the table
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


def report(
    job_dirs: list[Path] = typer.Argument(..., help="Job dirs written by `tmax eval` or by Harbor."),
    out: Path = typer.Option(Path("report"), "--out", "-o", help="Folder for report.md and the PNG plots."),
) -> None:
    """Compare job results side by side: Markdown table (mean ± SEM, pass@k, per task) and PNG plots."""
    from tmax.eval.report import write_report

    path = write_report(job_dirs, out)
    typer.echo(path.read_text())  # plain: rich would re-wrap the Markdown tables
    console.print(f"[dim]written: {path} and the plots beside it[/]")
