"""``tmax recipe --seeds 0,1,2``: the recipe once per seed, then one report across the seeds.

    <out>/seed-<k>/            a whole recipe run with ``seed = k`` (resumable, as any run)
    <out>/report/report.md     per seed: SFT and SFT+RL held-out score (mean ± SE over runs),
                               the gain, twice its combined SE, whether the gain clears both
                               bars (>= ``MIN_GAIN`` and > 2 SE), the held-out means during RL
                               and the run's minutes; the mean ± SE of the gains across seeds;
                               the machine and versions
    <out>/report/seeds.png     the gain per seed with its 2-SE bar, the bar at ``MIN_GAIN``
    <out>/report/summary.json  the same numbers

The SE of a seed's gain is the two models' SEMs over runs combined (sqrt(a² + b²)); the SE
of the mean gain is the sample standard deviation of the gains over sqrt(number of seeds),
so it includes what changes from seed to seed (tasks, tokenizer, weights, data order).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

from tmax.errors import ConfigError
from tmax.io import write_json_atomic
from tmax.recipe.config import RecipeConfig
from tmax.recipe.report import SFT_FLOOR

MIN_GAIN = 0.08  # the gain the tiny recipe is meant to show (issue #17), besides clearing 2 SE


def parse_seeds(text: str) -> list[int]:
    """``"0,1,2"`` -> ``[0, 1, 2]`` (order kept, repeats dropped)."""
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        seeds = []
    if not seeds:
        raise ConfigError(f"--seeds {text!r} is not a list of integers", where="--seeds", fix="e.g. --seeds 0,1,2")
    return list(dict.fromkeys(seeds))


def seed_gain(sft_mean: float, sft_sem: float, rl_mean: float, rl_sem: float, min_gain: float = MIN_GAIN) -> dict:
    """One seed's RL gain against its combined standard error; ``passed`` when the gain is at
    least ``min_gain`` and more than twice the combined SE; ``sft_failed`` when the SFT model
    scored below ``SFT_FLOOR``."""
    gain, se = rl_mean - sft_mean, math.hypot(sft_sem, rl_sem)
    return {"sft": sft_mean, "sft_sem": sft_sem, "rl": rl_mean, "rl_sem": rl_sem, "gain": gain, "combined_se": se,
            "two_se": 2 * se, "passed": gain >= min_gain - 1e-12 and gain > 2 * se, "sft_failed": sft_mean < SFT_FLOOR}


def mean_and_se(values: list[float]) -> tuple[float, float | None]:
    """Mean and its standard error (sample std / sqrt(n)); no SE from one value."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, None
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1) / n)


def across_seeds(gains: dict[int, dict]) -> dict:
    mean, se = mean_and_se([g["gain"] for g in gains.values()])
    return {"n_seeds": len(gains), "mean_gain": mean, "se_gain": se,
            "n_passed": sum(g["passed"] for g in gains.values()),
            "sft_failed": [k for k, g in gains.items() if g.get("sft_failed")],
            "all_passed": all(g["passed"] for g in gains.values())}


def run_seeds(cfg: RecipeConfig, seeds: list[int], *, log: Callable[[str], None] = print, progress=None) -> Path:
    """Run (or resume) the recipe for each seed into ``<out>/seed-<k>``, then the report across
    seeds; returns its path."""
    from tmax.recipe.run import run_recipe

    root = Path(cfg.out)
    if (root / "recipe.json").exists():
        raise ConfigError(f"{root} holds a single recipe run", where=str(root / "recipe.json"),
                          fix="give --seeds runs their own out= dir")
    progress = progress or (lambda stage: None)
    for seed in seeds:
        log(f"[seed {seed}]")
        run_recipe(cfg.with_seed(seed, str(root / f"seed-{seed}")), log=log,
                   progress=lambda stage, seed=seed: progress(f"seed-{seed}/{stage}"))
    return write_seeds_report(root, seeds)


def write_seeds_report(root: Path, seeds: list[int], min_gain: float = MIN_GAIN) -> Path:
    root, gains, setups = Path(root), {}, {}
    for seed in seeds:
        path = root / f"seed-{seed}" / "report" / "summary.json"
        summary = json.loads(path.read_text()) if path.exists() else {}
        models = summary.get("models", {})
        if {"SFT", "SFT+RL"} <= set(models):
            a, b = models["SFT"], models["SFT+RL"]
            gains[seed] = seed_gain(a["mean"], a["sem"], b["mean"], b["sem"], min_gain)
            gains[seed]["heldout_during_rl"] = [p["mean"] for p in summary.get("heldout_during_rl", [])]
            gains[seed]["minutes"] = summary["total_seconds"] / 60 if "total_seconds" in summary else None
            setups[seed] = summary.get("machine", {})
    dest = root / "report"
    dest.mkdir(parents=True, exist_ok=True)
    result = {"seeds": seeds, "min_gain": min_gain, "per_seed": {str(k): v for k, v in gains.items()},
              "across": across_seeds(gains) if gains else None, "machine": next(iter(setups.values()), {})}
    write_json_atomic(dest / "summary.json", result)
    if gains:
        _plot(gains, min_gain, dest / "seeds.png")
    path = dest / "report.md"
    path.write_text(_render(result, [s for s in seeds if s not in gains]))
    return path


def _plot(gains: dict[int, dict], min_gain: float, path: Path) -> Path:
    from tmax.eval import plots

    fig, ax = plots.plt.subplots(figsize=(max(4.0, 0.9 * len(gains) + 2), 3.6))
    x = list(range(len(gains)))
    ax.errorbar(x, [g["gain"] for g in gains.values()], yerr=[g["two_se"] for g in gains.values()], fmt="o",
                color="#4c72b0", capsize=4, label="gain ± 2 combined SE")
    ax.axhline(min_gain, color="#55a868", ls="--", lw=1, label=f"+{min_gain:g}")
    ax.axhline(0, color="#999999", lw=0.8)
    ax.set_xticks(x, [f"seed {k}" for k in gains])
    ax.set(title="RL gain on held-out tasks, per seed", ylabel="SFT+RL − SFT")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=8)
    return plots._save(fig, path)


def _render(result: dict, missing: list[int]) -> str:
    lines = ["# tmax recipe across seeds", "",
             "Per seed: held-out score of the SFT and SFT+RL models (mean ± SE over runs) and the gain against "
             f"twice its combined SE. A seed passes when its gain is >= +{result['min_gain']:g} and > 2 SE. "
             "Held-out during RL: the mean at step 0 (SFT), at each evaluation during RL and after it. "
             "Minutes: the whole run, every stage.", "",
             "| seed | SFT | SFT+RL | gain | 2 × SE | passes | held-out during RL | minutes |",
             "|---|---|---|---|---|---|---|---|"]
    for seed, g in result["per_seed"].items():
        curve = " → ".join(f"{m:.2f}" for m in g.get("heldout_during_rl") or []) or "–"
        minutes = f"{g['minutes']:.1f}" if g.get("minutes") is not None else "–"
        sft_mark = " (SFT failed)" if g.get("sft_failed") else ""
        lines.append(f"| {seed} | {g['sft']:.3f} ± {g['sft_sem']:.3f}{sft_mark} | {g['rl']:.3f} ± {g['rl_sem']:.3f} | "
                     f"{g['gain']:+.3f} | {g['two_se']:.3f} | {'yes' if g['passed'] else 'no'} | {curve} | {minutes} |")
    lines.append("")
    across = result["across"]
    if across:
        se = f" ± {across['se_gain']:.3f}" if across["se_gain"] is not None else " (one seed: no SE)"
        lines += [f"**Mean gain over {across['n_seeds']} seed(s): {across['mean_gain']:+.3f}{se}**; "
                  f"{across['n_passed']} of {across['n_seeds']} pass.", "", "![gains](seeds.png)", ""]
        if across.get("sft_failed"):
            lines += [f"**SFT failed on seed(s) {', '.join(map(str, across['sft_failed']))}**: held-out below "
                      f"{SFT_FLOOR:g} after SFT, so RL started from a policy that almost never earns a reward; "
                      "its gain says nothing about RL. See that seed's SFT loss (seed-<k>/report).", ""]
    if missing:
        lines += [f"Not finished (no report yet): seed(s) {', '.join(map(str, missing))}.", ""]
    m = result["machine"]
    if m:
        lines += [f"Machine: {m.get('cpu')}, {m.get('cores')} cores; Python {m.get('python')}, torch "
                  f"{m.get('torch')}, transformers {m.get('transformers')}, tmax {m.get('tmax')}. Each seed's own "
                  "report: seed-<k>/report/report.md.", ""]
    return "\n".join(lines)
