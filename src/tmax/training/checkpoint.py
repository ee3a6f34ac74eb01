"""Atomic, exactly-resumable checkpoints: model, optimizer, step, RNG states, data cursor.

    <run_dir>/checkpoints/step-000120/
        model.safetensors (+ config.json)   the weights, loadable by transformers
        optimizer.pt                        the optimizer state
        rng.pt                              python, numpy and torch (CPU and CUDA) RNG states
        state.json                          step, data cursor and anything else the loop keeps
    <run_dir>/checkpoints/latest            the name of the newest complete checkpoint

A checkpoint is written into ``step-N.partial`` and renamed when complete; ``latest`` is
replaced atomically after that. A run killed at any moment leaves the previous checkpoint
intact and resumable. Only the newest ``keep`` checkpoints are kept.

Weights and optimizer state are saved full (unsharded) and keyed by parameter name, whether
the run had one process or N FSDP ranks (``tmax.training.sharding``): a checkpoint resumes on any
number of processes. Under sharding every rank calls ``save``/``restore`` (they gather and
broadcast); rank 0 reads and writes the files.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

from tmax.errors import ConfigError
from tmax.io import write_json_atomic, write_text_atomic


def _rng_state() -> dict:
    import numpy as np
    import torch

    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    import numpy as np
    import torch

    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _rank() -> int:
    import torch.distributed as dist

    return dist.get_rank() if dist.is_initialized() else 0


def _first_line(exc: BaseException) -> str:
    lines = [l.strip() for l in str(exc).strip("'\"").splitlines() if l.strip()]
    return next((l for l in lines if "size mismatch" in l or "missing" in l), lines[0] if lines else repr(exc))


def save(run_dir: Path, step: int, model, optimizer, state: dict, *, keep: int = 2) -> Path:
    """Write checkpoint ``step`` atomically and return its dir (every rank calls it)."""
    import torch
    from transformers.utils import logging as hf_logging

    from tmax.training.sharding import full_state_dict, optimizer_state

    root = Path(run_dir) / "checkpoints"
    final = root / f"step-{step:06d}"
    weights, optim = full_state_dict(model), optimizer_state(model, optimizer)  # collectives
    if _rank() != 0:
        return final
    tmp = final.with_name(final.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    hf_logging.disable_progress_bar()  # one bar per checkpoint would break the step display
    model.save_pretrained(tmp, state_dict=weights)
    torch.save(optim, tmp / "optimizer.pt")
    torch.save(_rng_state(), tmp / "rng.pt")
    write_json_atomic(tmp / "state.json", {"step": step, **state})
    for path in tmp.iterdir():  # durable before it becomes visible
        with open(path, "rb") as f:
            os.fsync(f.fileno())
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    write_text_atomic(root / "latest", final.name + "\n")
    for old in sorted(p for p in root.glob("step-*") if p.is_dir() and not p.name.endswith(".partial"))[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def latest(run_dir: Path) -> Path | None:
    """The newest complete checkpoint of a run, or None."""
    pointer = Path(run_dir) / "checkpoints" / "latest"
    if not pointer.exists():
        return None
    path = pointer.parent / pointer.read_text().strip()
    return path if (path / "state.json").exists() else None


def restore(path: Path, model, optimizer) -> dict:
    """Load weights, optimizer and RNG states from ``path``; returns its state.json."""
    import torch
    from safetensors.torch import load_file

    from tmax.training.sharding import load_state

    weights, optim = {}, {}
    if _rank() == 0:  # under sharding rank 0 reads, load_state broadcasts
        for shard in sorted(Path(path).glob("*.safetensors")):
            weights.update(load_file(shard))
        optim = torch.load(Path(path) / "optimizer.pt", weights_only=False)
    fix = "resume with the model config the run started with, or start a new run dir"
    try:
        load_state(model, optimizer, weights, optim)
    except (RuntimeError, KeyError, ValueError) as exc:  # shape mismatches, missing or unexpected keys
        raise ConfigError(f"checkpoint does not fit the model: {_first_line(exc)}", where=str(path), fix=fix) from exc
    _set_rng_state(torch.load(Path(path) / "rng.pt", weights_only=False))
    return json.loads((Path(path) / "state.json").read_text())


# Config sections a run may change when it resumes: where it runs and logs, not what it trains.
PLACEMENT_KEYS = ("cluster", "tracking")


def resume_run(run_dir: Path, config: dict, model, optimizer, fresh: dict) -> dict:
    """Start or resume a training run dir: refuse a config other than the saved one (placement
    aside), save it, restore the newest checkpoint (or return ``fresh``), and drop the
    ``metrics.jsonl`` lines of steps after that checkpoint (they will run again)."""
    run_dir = Path(run_dir)
    saved = run_dir / "config.json"
    if saved.exists():
        old = json.loads(saved.read_text())
        changed = sorted(k for k in {*old, *config} - set(PLACEMENT_KEYS) if old.get(k) != config.get(k))
        if changed:
            raise ConfigError(f"{run_dir} was started with a different config ({', '.join(changed)} differ)",
                              where=str(saved), fix="resume with the same config, or choose a new run dir")
    path = latest(run_dir)
    state = restore(path, model, optimizer) if path else dict(fresh)
    if _rank() != 0:
        return state
    write_json_atomic(saved, config)
    metrics = run_dir / "metrics.jsonl"
    if metrics.exists():
        lines = [l for l in metrics.read_text().splitlines() if l and json.loads(l)["step"] <= state["step"]]
        write_text_atomic(metrics, "".join(l + "\n" for l in lines))
    return state
