"""The recipe's stages, in order (see the package docstring). Each returns quickly when its
output is already complete, so ``run_recipe`` on a finished run only rewrites the report."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from tmax.errors import ConfigError
from tmax.harness.atif_read import atif_messages
from tmax.io import write_json_atomic
from tmax.recipe.config import RecipeConfig


def _log_default(message: str) -> None:
    print(message, flush=True)


def _texts_for_tokenizer(train_dir: Path, oracle_job: Path) -> list[str]:
    """The training split's instructions and the oracle's messages: the tokenizer learns the
    words the model will read and write."""
    texts = [p.read_text() for p in sorted(train_dir.glob("*/instruction.md"))]
    for path in sorted(oracle_job.glob("*/agent/trajectory.json")):
        messages, _ = atif_messages(json.loads(path.read_text()), str(path))
        texts += [m.get("content") or "" for m in messages]
    return texts


def _eval(cfg: RecipeConfig, out: Path, name: str, tasks: list[str], agent: str, model: str | None,
          runs: int, progress, bar: str | None = None) -> Path:
    from tmax.engines import EngineConfig
    from tmax.eval.job import EvalConfig, run_eval

    engine = EngineConfig(name="hf", model=model or "", sampling=cfg.eval.sampling,
                          max_context_tokens=cfg.rl.max_context_tokens)
    ecfg = EvalConfig(tasks=tasks, agent=agent, sandbox=cfg.sandbox, runs=runs, concurrency=cfg.eval.concurrency,
                      jobs_dir=str(out / "jobs"), job_name=name, engine=engine, harness=cfg.harness)
    return run_eval(ecfg, on_trial=progress(bar or name))


def _heldout_during_rl(cfg: RecipeConfig, out: Path, heldout_dir: Path, progress):
    """The RL loop's ``evaluate`` hook: every ``eval.rl_every`` steps (not the last: the eval-rl
    stage scores that policy with all runs), ``eval.rl_runs`` runs of the current policy over
    the held-out tasks, as job ``jobs/rl-eval-step-<k>``; its mean and SEM join the step's
    metrics (``heldout_mean``, ``heldout_sem``)."""
    import shutil

    from tmax.eval.report import load_job, summarize

    every = cfg.eval.rl_every

    def evaluate(step: int, trainer) -> dict:
        if not every or step % every or step >= cfg.rl.steps:
            return {}
        policy = out / "rl" / "eval-policy"
        trainer.save_model(policy)
        name = f"rl-eval-step-{step:04d}"
        shutil.rmtree(out / "jobs" / name, ignore_errors=True)  # left by an interrupted run: another policy
        job = _eval(cfg, out, name, [str(heldout_dir)], "hf", str(policy), cfg.eval.rl_runs, progress, "rl-eval")
        summary = summarize([load_job(job)])[0]
        return {"heldout_mean": summary.mean, "heldout_sem": summary.sem, "heldout_runs": len(summary.run_scores)}

    return evaluate


def machine() -> dict:
    """What ran the recipe: CPU model and cores, Python, torch and transformers versions."""
    import os
    import platform
    from importlib.metadata import PackageNotFoundError, version

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    info = {"cpu": cpu, "cores": os.cpu_count(), "system": platform.platform(), "python": platform.python_version()}
    for package in ("tmax", "torch", "transformers"):
        try:
            info[package] = version(package)
        except PackageNotFoundError:
            info[package] = None
    return info


def _oracle(cfg: RecipeConfig, out: Path, train_dir: Path, progress, tries: int = 3) -> None:
    """Oracle trajectories of the train split: a trial that errored (infrastructure) is tried
    again, up to ``tries`` times in all; if some still errored, the recipe stops and names them
    -- SFT never runs on silently fewer demonstrations."""
    from tmax.io import read_json_or_none

    for _ in range(tries):
        job = _eval(cfg, out, "oracle", [str(train_dir)], "stepwise", None, 1, progress)  # a rerun retries errors
        errored = sorted(p.parent.name for p in job.glob("*/result.json")
                         if (read_json_or_none(p) or {}).get("exception_info"))
        if not errored:
            return
    from tmax.errors import InfraError

    raise InfraError(f"{len(errored)} oracle trial(s) errored {tries} times: {', '.join(errored[:5])}",
                     where=str(job), fix="see exception_info in their result.json; rerun `tmax recipe` to resume")


def _tasks(cfg: RecipeConfig, out: Path) -> None:
    from tmax.envgen.starter import split

    try:
        split(out / "tasks", cfg.tasks.n_train, cfg.tasks.n_heldout, cfg.seed, n_rl=cfg.tasks.n_rl,
              kinds=cfg.tasks.kinds, known_share=cfg.tasks.known_share)
    except ValueError as e:  # more tasks asked for than the kinds have distinct instances
        raise ConfigError(str(e), where="[tasks] n_train + n_rl + n_heldout",
                          fix="ask for fewer tasks, or add kinds to tasks.kinds") from None


def _check_saved(out: Path, cfg: RecipeConfig) -> None:
    saved = out / "recipe.json"
    if saved.exists() and json.loads(saved.read_text()) != cfg.model_dump(mode="json"):
        raise ConfigError(f"{out} holds a recipe run with a different config", where=str(saved),
                          fix="rerun with the same config to resume, or set out= to a new dir")
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(saved, cfg.model_dump(mode="json"))
    if not (out / "machine.json").exists():  # the machine the run started on
        write_json_atomic(out / "machine.json", machine())


def run_recipe(cfg: RecipeConfig, *, log: Callable[[str], None] = _log_default, progress=None) -> Path:
    """Run (or resume) every stage; returns the report path. ``progress(stage)`` returns an
    ``on_trial``/``on_step`` callback for that stage (the CLI draws bars with it)."""
    from tmax.engines.tiny import build_tiny_model
    from tmax.recipe.report import write_report
    from tmax.cluster import TRAINERS
    from tmax.rl.train import train
    from tmax.sft.train import model_dir, train_sft

    progress = progress or (lambda stage: None)
    out = Path(cfg.out)
    _check_saved(out, cfg)
    stages_file = out / "stages.json"
    stages = json.loads(stages_file.read_text()) if stages_file.exists() else {}

    def stage(name: str, fn) -> None:
        if stages.get(name, {}).get("done"):
            log(f"[{name}] already done")
            return
        log(f"[{name}] running")
        started = time.monotonic()
        fn()
        stages[name] = {"done": True, "seconds": round(time.monotonic() - started, 1)}
        write_json_atomic(stages_file, stages)

    train_dir, heldout_dir = out / "tasks" / "train", out / "tasks" / "heldout"
    rl_dir = out / "tasks" / "rl" if cfg.tasks.n_rl else train_dir
    oracle, init = out / "jobs" / "oracle", out / "models" / "init"
    sft_cfg = cfg.sft_config(str(init), [str(oracle)], str(out / "sft"))
    sft_model = model_dir(sft_cfg)
    rl_cfg = cfg.rl_config(str(sft_model), [str(rl_dir)], str(out / "rl"))
    stage("tasks", lambda: _tasks(cfg, out))
    stage("oracle", lambda: _oracle(cfg, out, train_dir, progress))
    stage("model", lambda: build_tiny_model(init, cfg.model, _texts_for_tokenizer(train_dir, oracle)))
    stage("sft", lambda: train_sft(sft_cfg, on_step=progress("sft")))
    stage("eval-sft", lambda: _eval(cfg, out, "eval-sft", [str(heldout_dir)], "hf", str(sft_model),
                                    cfg.eval.runs, progress))
    stage("rl", lambda: train(rl_cfg, TRAINERS[rl_cfg.cluster.backend], on_step=progress("rl"),
                              evaluate=_heldout_during_rl(cfg, out, heldout_dir, progress)))
    stage("eval-rl", lambda: _eval(cfg, out, "eval-rl", [str(heldout_dir)], "hf", str(out / "rl" / "model"),
                                   cfg.eval.runs, progress))
    report = write_report(out, stages)
    log(f"[report] {report}")
    return report
