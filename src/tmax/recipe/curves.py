"""The recipe's training plots, from the SFT and RL ``metrics.jsonl`` lines.

    curves.png   SFT loss; RL training reward and solve rate (raw and smoothed; one line
                 when every reward is 0 or 1, where the two are the same); the
                 held-out score during RL, mean ± SEM band, with the SFT and SFT+RL
                 evaluations (all runs) at both ends
    dppo.png     DPPO diagnostics per step: masked token fraction and |log pi - log mu|,
                 entropy, groups pulled / kept / filtered (all rewards equal) / stale, and the
                 largest staleness of a kept group
"""

from __future__ import annotations

from pathlib import Path


def smooth(values: list[float], window: int) -> list[float]:
    """Trailing mean over the last ``window`` values (fewer at the start)."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def window_for(n: int) -> int:
    """A smoothing window for ``n`` steps: about a tenth of the run, at least 1."""
    return max(1, round(n / 10))


def heldout_points(rl: list[dict], before: dict | None, after: dict | None, last_step: int) -> list[tuple]:
    """``(step, mean, sem, runs)`` of every held-out evaluation: the SFT model at step 0, the
    evaluations during RL, the final policy at ``last_step``; ``before``/``after`` are the
    report's model numbers (or None when not evaluated yet)."""
    points = [(0, before["mean"], before["sem"], len(before["run_scores"]))] if before else []
    points += [(m["step"], m["heldout_mean"], m["heldout_sem"], m.get("heldout_runs", 0))
               for m in rl if "heldout_mean" in m]
    if after:
        points.append((last_step, after["mean"], after["sem"], len(after["run_scores"])))
    return points


def _clean(ax, title: str, xlabel: str = "RL step") -> None:
    from matplotlib.ticker import MaxNLocator

    ax.set(title=title, xlabel=xlabel)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)


def plot_curves(sft: list[dict], rl: list[dict], heldout: list[tuple], path: Path) -> Path:
    from tmax.eval import plots

    fig, (left, middle, right) = plots.plt.subplots(1, 3, figsize=(15, 3.8))
    if sft:
        left.plot([m["step"] for m in sft], [m["loss"] for m in sft], color="#4c72b0", lw=1)
        left.set_yscale("log")
    _clean(left, "SFT: loss per optimizer step", "SFT step")
    left.set_ylabel("cross-entropy (nats / token)")
    if rl:
        steps, w = [m["step"] for m in rl], window_for(len(rl))
        middle.plot(steps, [m["reward"] for m in rl], color="#dd8452", alpha=0.3, lw=1)
        binary = all(abs(m["reward"] - m["solve_rate"]) < 1e-9 for m in rl)  # rewards 0 or 1: one line
        middle.plot(steps, smooth([m["reward"] for m in rl], w), color="#dd8452", lw=2,
                    label=f"mean reward{' = solve rate' if binary else ''} ({w}-step mean)")
        if not binary:
            middle.plot(steps, smooth([m["solve_rate"] for m in rl], w), color="#55a868", lw=2,
                        label=f"solve rate ({w}-step mean)")
        middle.legend(frameon=False, fontsize=8)
    middle.set_ylim(0, 1)
    _clean(middle, "RL: training rollouts (faint: per step)")
    if heldout:
        x, mean, sem = ([p[i] for p in heldout] for i in range(3))
        right.fill_between(x, [m - s for m, s in zip(mean, sem)], [m + s for m, s in zip(mean, sem)],
                           color="#8172b3", alpha=0.25, lw=0, label="± SEM over runs")
        right.plot(x, mean, color="#8172b3", marker="o", ms=4, label="held-out score")
        right.legend(frameon=False, fontsize=8)
    _clean(right, "Held-out tasks during RL (step 0: SFT)")
    right.set_ylabel("mean reward")
    return plots._save(fig, path)


def plot_dppo(rl: list[dict], path: Path) -> Path:
    from tmax.eval import plots

    fig, axes = plots.plt.subplots(1, 3, figsize=(15, 3.6))
    steps = [m["step"] for m in rl]

    def line(ax, key, label, color):
        if rl and key in rl[0]:
            ax.plot(steps, [m.get(key, 0) for m in rl], label=label, color=color, marker="o", ms=2, lw=1)

    line(axes[0], "masked_frac", "masked token fraction", "#c44e52")
    line(axes[0], "abs_log_ratio", "mean |log π − log μ|", "#4c72b0")
    _clean(axes[0], "Trust region (DPPO)")
    line(axes[1], "entropy", "entropy (nats / token)", "#55a868")
    _clean(axes[1], "Policy entropy on sampled tokens")
    line(axes[2], "n_pulled", "groups pulled", "#937860")
    line(axes[2], "n_groups_kept", "kept (informative)", "#55a868")
    line(axes[2], "n_zero_std", "filtered (rewards all equal)", "#dd8452")
    line(axes[2], "n_stale", "dropped as stale", "#c44e52")
    line(axes[2], "max_staleness", "max staleness (versions)", "#8172b3")
    _clean(axes[2], "Groups per step and staleness")
    for ax in axes:
        if ax.lines:
            ax.legend(frameon=False, fontsize=8)
    return plots._save(fig, path)
