"""tmax inside Harbor: tmax's sandboxes as Harbor environments and tmax's harness as a Harbor agent.

    harbor run -p TASK_DIR -a oracle -e tmax.harbor:Bwrap
    harbor run -p TASK_DIR -a tmax.harbor:TmaxAgent -m openai/NAME -e tmax.harbor:Podman \
        --ak base_url=http://127.0.0.1:8000/v1 --ak tokenizer=MODEL_DIR

Only this package imports ``harbor`` (Python >= 3.12, ``tmax[harbor]``); the rest of tmax runs
without it.
"""

from tmax.harbor.agent import TmaxAgent
from tmax.harbor.environment import Bwrap, Podman, TmaxEnvironment

__all__ = ["Bwrap", "Podman", "TmaxAgent", "TmaxEnvironment"]
