"""``tmax recipe``: the whole TMax pipeline end to end, on one machine.

    tasks      starter tasks: train (SFT), rl and held-out splits, disjoint  (tmax.envgen.starter)
    oracle     the reference solutions as step-by-step trajectories    (eval, agent ``stepwise``)
    model      a byte-level BPE tokenizer trained on the train split's text + a Qwen3 model
               initialised from a config                               (tmax.engines.tiny)
    sft        supervised warm start on the oracle trajectories        (tmax.sft.train)
    eval-sft   the SFT model on the held-out tasks, ``eval.runs`` runs (tmax.eval.job)
    rl         DPPO from the SFT model on the rl split, in sandboxes  (tmax.rl.train)
    eval-rl    the RL model on the held-out tasks, same runs
    report     before/after table, gain vs its standard error, learning curves (report.md, PNGs)

Every stage writes under ``<out>/`` and is resumable: a rerun skips finished stages and
resumes the unfinished one (eval jobs skip finished trials, SFT and RL restart from their
last checkpoint). The resolved config is saved as ``<out>/recipe.json``; a rerun with a
different one is refused. Stage timings go to ``<out>/stages.json``.
"""

from __future__ import annotations

from tmax.recipe.config import RecipeConfig
from tmax.recipe.run import run_recipe

__all__ = ["RecipeConfig", "run_recipe"]
