"""Experiment tracking for SFT and RL, beyond ``metrics.jsonl`` and TensorBoard.

``TrackingConfig`` is the ``tracking`` section of ``SFTConfig`` and ``TrainConfig``;
``open_tracker(cfg, run_dir, config)`` returns a tracker with ``log(metrics, step)`` and
``close()``, chosen by name from ``TRACKERS``:

- ``none`` (default): nothing beyond ``metrics.jsonl`` (and TensorBoard for RL, when installed).
- ``trackio``: a local-first trackio project (pip ``trackio``, the ``tracking`` extra), a
  SQLite database under ``dir`` (``<run_dir>/trackio`` when unset); ``trackio show --project
  NAME`` with ``TRACKIO_DIR`` set to that dir opens the dashboard. Nothing leaves the machine.
  trackio fixes its database dir when first imported, so one process logs to one dir: the
  first tracked run's, or ``$TRACKIO_DIR`` when set (that wins).

A tracker only mirrors what ``metrics.jsonl`` has; nothing reads it back, so a resumed run
simply logs its steps again (trackio keeps the newest value per step).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tmax.errors import ConfigError


class TrackingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backend: Literal["none", "trackio"] = Field("none", description="none | trackio (local-first, pip trackio).")
    project: str | None = Field(None, description="Project name (None: the run dir's name).")
    name: str | None = Field(None, description="Run name inside the project (None: the run dir's name).")
    group: str | None = Field(None, description="Group of runs (e.g. a seed), where the backend has groups.")
    dir: str | None = Field(None, description="Where the backend stores its files (None: <run_dir>/trackio; "
                                              "$TRACKIO_DIR wins when set).")


class NoTracker:
    def log(self, metrics: dict, step: int) -> None:
        pass

    def close(self) -> None:
        pass


def _scalars(metrics: dict) -> dict:
    return {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


class TrackioTracker:
    """One trackio run; scalar metrics only (strings and lists stay in metrics.jsonl)."""

    def __init__(self, cfg: TrackingConfig, run_dir: Path, config: dict):
        os.environ.setdefault("TRACKIO_DIR", str(Path(cfg.dir or run_dir / "trackio").resolve()))
        try:
            import trackio
        except ImportError as exc:
            raise ConfigError("tracking.backend = 'trackio' but trackio is not installed",
                              where="tracking.backend",
                              fix="pip install 'tmax[tracking]' (or trackio), or set tracking.backend = 'none'") from exc
        Path(os.environ["TRACKIO_DIR"]).mkdir(parents=True, exist_ok=True)
        self._trackio = trackio
        self.dir = Path(os.environ["TRACKIO_DIR"])
        self.run = trackio.init(project=cfg.project or run_dir.resolve().name, name=cfg.name or run_dir.name,
                                group=cfg.group, config=config, resume="allow", embed=False,
                                auto_log_cpu=False, auto_log_gpu=False)

    def log(self, metrics: dict, step: int) -> None:
        self.run.log(_scalars(metrics), step=step)

    def close(self) -> None:
        self.run.finish()


TRACKERS: dict[str, Callable[[TrackingConfig, Path, dict], object]] = {
    "none": lambda cfg, run_dir, config: NoTracker(),
    "trackio": TrackioTracker,
}


def open_tracker(cfg: TrackingConfig, run_dir: Path, config: dict):
    """The tracker ``cfg.backend`` names, for the run in ``run_dir`` with resolved ``config``."""
    return TRACKERS[cfg.backend](cfg, Path(run_dir), config)
