"""tmax inside Harbor: tmax's sandboxes as Harbor environments, tmax's harness as a Harbor agent,
and Harbor's registry behind ``tmax data pull``.

    harbor run -p TASK_DIR -a oracle -e tmax.harbor:Bwrap
    harbor run -p TASK_DIR -a tmax.harbor:TmaxAgent -m openai/NAME -e tmax.harbor:Podman \
        --ak base_url=http://127.0.0.1:8000/v1 --ak tokenizer=MODEL_DIR

The plugin classes import ``harbor`` (Python >= 3.12, ``tmax[harbor]``) and load on first use
(``tmax.harbor.Bwrap``); ``tmax.harbor.registry`` runs Harbor's interpreter as a subprocess and
imports neither, so tmax without harbor still imports everything else.
"""

from __future__ import annotations

_PLUGINS = {"Bwrap": "environment", "Podman": "environment", "TmaxEnvironment": "environment",
            "TmaxAgent": "agent"}


def __getattr__(name: str):
    if name in _PLUGINS:
        import importlib

        return getattr(importlib.import_module(f"tmax.harbor.{_PLUGINS[name]}"), name)
    raise AttributeError(f"module 'tmax.harbor' has no attribute {name!r}")


__all__ = list(_PLUGINS)
