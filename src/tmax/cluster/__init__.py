"""Scale-out on Ray: rollout workers with bounded sandbox pools, engine actors, FSDP trainer ranks.

``tmax train`` with ``cluster.backend = "ray"`` (see ``docs/cluster.md``). Importing this
package does not import Ray; the actors are built when a run starts. ``TRAINERS`` names the
trainer each backend uses: what ``tmax.rl.train.train`` is given to build.
"""

from tmax.cluster.breaker import CircuitBreaker
from tmax.cluster.train import RayTrainer
from tmax.rl.config import ClusterConfig
from tmax.rl.trainer import LocalTrainer

TRAINERS = {"local": LocalTrainer, "ray": RayTrainer}

__all__ = ["TRAINERS", "CircuitBreaker", "ClusterConfig", "RayTrainer"]
