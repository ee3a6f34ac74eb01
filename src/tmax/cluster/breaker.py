"""A circuit breaker for one node's sandboxes: pause the node when its episodes keep failing.

A node whose container runtime broke, whose disk filled or whose sandboxes keep getting
OOM-killed fails every episode it starts, fast; left alone it would eat the task queue and
hand the trainer groups of masked episodes. The breaker watches the outcome of the node's
last ``window`` episodes (True = scored, False = infra failure):

    closed     episodes run; once ≥ ``min_episodes`` are in the window and the failed share
               reaches ``max_failure_rate``, the breaker opens
    open       nothing runs for ``cooldown_s`` (the node's groups go to other nodes)
    half-open  after the cooldown one probe group runs; if its failed share is below the rate
               the breaker closes (window cleared), else it opens again for twice as long
               (up to ``max_cooldown_s``)
"""

from __future__ import annotations

import threading
import time
from collections import deque


class CircuitBreaker:
    def __init__(self, *, window: int = 32, min_episodes: int = 8, max_failure_rate: float = 0.5,
                 cooldown_s: float = 60.0, max_cooldown_s: float = 900.0, clock=time.monotonic):
        if not 0 < max_failure_rate <= 1 or min_episodes < 1 or window < min_episodes:
            raise ValueError("need 0 < max_failure_rate <= 1 and 1 <= min_episodes <= window")
        self.window, self.min_episodes, self.rate = window, min_episodes, max_failure_rate
        self.base_cooldown, self.max_cooldown, self.clock = cooldown_s, max_cooldown_s, clock
        self.cooldown = cooldown_s
        self.outcomes: deque[bool] = deque(maxlen=window)
        self.opened_at: float | None = None
        self.probing = False
        self.trips = 0
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "half-open" if self.probing else "closed"
        return "open" if self.clock() - self.opened_at < self.cooldown else "half-open"

    def remaining_s(self) -> float:
        """Seconds until an open breaker lets a probe through (0 when not open)."""
        if self.opened_at is None:
            return 0.0
        return max(0.0, self.cooldown - (self.clock() - self.opened_at))

    def allow(self) -> bool:
        """May a new group start on this node? After the cooldown the first caller gets the probe."""
        with self._lock:
            if self.opened_at is None:
                return not self.probing
            if self.clock() - self.opened_at < self.cooldown:
                return False
            self.opened_at, self.probing = None, True
            self.outcomes.clear()
            return True

    def record(self, outcomes: list[bool]) -> None:
        """The outcomes of one finished group's episodes."""
        with self._lock:
            if self.probing:
                self.probing = False
                failed = outcomes.count(False) / max(len(outcomes), 1)
                if failed >= self.rate:
                    self.cooldown = min(self.cooldown * 2, self.max_cooldown)
                    self._open()
                else:
                    self.cooldown = self.base_cooldown
                return
            self.outcomes.extend(outcomes)
            n = len(self.outcomes)
            if n >= self.min_episodes and list(self.outcomes).count(False) / n >= self.rate:
                self._open()

    def _open(self) -> None:
        self.opened_at, self.trips = self.clock(), self.trips + 1
        self.outcomes.clear()
