"""The recipe's report: SFT vs SFT+RL on the held-out tasks, and how training went.

    <out>/report/report.md     before/after table (mean ± SEM over runs, pass@k), the RL gain
                               against twice its combined standard error, per-kind rewards,
                               stage timings
    <out>/report/curves.png    SFT loss per step; RL reward and solve rate per step
    <out>/report/score.png     the two models' scores, SEM bars and single runs
    <out>/report/summary.json  the same numbers, for scripts
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from tmax.io import write_json_atomic


def _metrics(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _kind(task: str) -> str:
    return task.rsplit("-", 2)[0]  # starter task names: <kind>-<seed>-<index>


def _per_kind(summary) -> dict[str, float]:
    rewards: dict[str, list[float]] = {}
    for task, trials in summary.attempts.items():
        rewards.setdefault(_kind(task), []).extend(t.reward or 0.0 for t in trials)
    return {kind: sum(v) / len(v) for kind, v in sorted(rewards.items())}


def plot_curves(sft: list[dict], rl: list[dict], path: Path) -> Path:
    from tmax.eval import plots

    plt = plots.plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    if sft:
        left.plot([m["step"] for m in sft], [m["loss"] for m in sft], color="#4c72b0", lw=1)
        left.set_yscale("log")
    left.set(title="SFT: loss per optimizer step", xlabel="step", ylabel="cross-entropy (nats / token)")
    if rl:
        steps = [m["step"] for m in rl]
        right.plot(steps, [m["reward"] for m in rl], color="#dd8452", marker="o", ms=3, label="mean reward")
        right.plot(steps, [m["solve_rate"] for m in rl], color="#55a868", marker="s", ms=3, label="solve rate")
        right.legend(frameon=False)
    right.set(title="RL (DPPO): training rollouts per step", xlabel="step", ylim=(0, 1))
    for ax in (left, right):
        ax.spines[["top", "right"]].set_visible(False)
    return plots._save(fig, path)


def write_report(out: Path, stages: dict) -> Path:
    from tmax.eval import plots
    from tmax.eval.report import load_job, summarize

    out = Path(out)
    dest = out / "report"
    dest.mkdir(parents=True, exist_ok=True)
    sft_metrics, rl_metrics = _metrics(out / "sft" / "metrics.jsonl"), _metrics(out / "rl" / "metrics.jsonl")
    plot_curves(sft_metrics, rl_metrics, dest / "curves.png")
    models = {}
    for label, job in (("SFT", "eval-sft"), ("SFT+RL", "eval-rl")):
        if (out / "jobs" / job / "job.json").exists():
            summary = summarize([load_job(out / "jobs" / job)])[0]
            summary.label = label
            models[label] = summary
    if models:
        plots.plot_scores(list(models.values()), dest / "score.png")
    numbers = {label: {"mean": s.mean, "sem": s.sem, "run_scores": s.run_scores, "pass_at_k": s.pass_at,
                       "per_kind": _per_kind(s), "n_tasks": len(s.attempts), "n_errors": len(s.errors)}
               for label, s in models.items()}
    verdict = None
    if len(models) == 2:
        gain = numbers["SFT+RL"]["mean"] - numbers["SFT"]["mean"]
        se = math.sqrt(numbers["SFT"]["sem"] ** 2 + numbers["SFT+RL"]["sem"] ** 2)
        verdict = {"gain": gain, "combined_se": se, "gain_over_2se": gain > 2 * se}
    total = sum(s.get("seconds", 0) for s in stages.values())
    summary = {"models": numbers, "rl_gain": verdict, "stages": stages, "total_seconds": total}
    write_json_atomic(dest / "summary.json", summary)
    path = dest / "report.md"
    path.write_text(_render(summary, bool(models)))
    return path


def _render(summary: dict, have_scores: bool) -> str:
    models, verdict = summary["models"], summary["rl_gain"]
    lines = ["# tmax recipe report", "",
             "Held-out starter tasks (unseen instances), several runs per model; score = mean reward over "
             "the tasks in a run, shown as mean ± SEM over runs.", ""]
    if models:
        ks = sorted({k for m in models.values() for k in m["pass_at_k"]})
        lines += ["| model | score | runs | " + " | ".join(f"pass@{k}" for k in ks) + " | errors |",
                  "|---|---|---|" + "---|" * len(ks) + "---|"]
        for label, m in models.items():
            runs = ", ".join(f"{r:.3f}" for r in m["run_scores"])
            passes = " | ".join(f"{m['pass_at_k'].get(k, float('nan')):.3f}" for k in ks)
            lines.append(f"| {label} | {m['mean']:.3f} ± {m['sem']:.3f} | {runs} | {passes} | {m['n_errors']} |")
        lines.append("")
    if verdict:
        word = "larger" if verdict["gain_over_2se"] else "NOT larger"
        lines += [f"**RL gain: {verdict['gain']:+.3f}**, combined standard error {verdict['combined_se']:.3f}: "
                  f"the gain is {word} than twice the combined standard error "
                  f"({2 * verdict['combined_se']:.3f}).", ""]
    if models:
        kinds = sorted({k for m in models.values() for k in m["per_kind"]})
        lines += ["Mean reward per task kind:", "", "| kind | " + " | ".join(models) + " |",
                  "|---|" + "---|" * len(models)]
        lines += [f"| {k} | " + " | ".join(f"{m['per_kind'].get(k, 0):.3f}" for m in models.values()) + " |"
                  for k in kinds]
        lines.append("")
    if have_scores:
        lines += ["![scores](score.png)", ""]
    lines += ["![learning curves](curves.png)", "", "| stage | seconds |", "|---|---|"]
    lines += [f"| {name} | {s.get('seconds', 0):.0f} |" for name, s in summary["stages"].items()]
    lines += [f"| **total** | **{summary['total_seconds']:.0f}** ({summary['total_seconds'] / 60:.1f} min) |", ""]
    return "\n".join(lines)
