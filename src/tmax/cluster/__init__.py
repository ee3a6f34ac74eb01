"""Scale-out on Ray: rollout workers with bounded sandbox pools, engine actors, FSDP trainer ranks.

``tmax train`` with ``cluster.backend = "ray"`` (see ``docs/cluster.md``). Importing this
package does not import Ray; the actors are built when a run starts.
"""

from tmax.cluster.breaker import CircuitBreaker
from tmax.cluster.config import ClusterConfig

__all__ = ["CircuitBreaker", "ClusterConfig"]
