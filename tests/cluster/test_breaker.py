"""The circuit breaker's state machine, on a clock the test moves by hand."""

from __future__ import annotations

import pytest

from tmax.cluster.breaker import CircuitBreaker


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_opens_at_the_failure_rate_and_probes_after_the_cooldown():
    clock = Clock()
    b = CircuitBreaker(window=8, min_episodes=4, max_failure_rate=0.5, cooldown_s=10, clock=clock)
    b.record([True, False, True])           # 1/3 failed, and fewer than 4 episodes
    assert b.allow() and b.state == "closed"
    b.record([False])                       # 2/4 = 0.5: opens
    assert b.state == "open" and not b.allow() and b.trips == 1
    assert b.remaining_s() == pytest.approx(10)
    clock.t += 9.9
    assert not b.allow()
    clock.t += 0.2                          # cooldown over: one probe, nobody else
    assert b.allow() and b.state == "half-open"
    assert not b.allow()
    b.record([True, True, False, True])     # 1/4 failed: closes, window cleared
    assert b.state == "closed" and b.allow()
    b.record([True, True, True, False])     # 1/4: stays closed
    assert b.state == "closed"


def test_a_failed_probe_reopens_for_twice_as_long():
    clock = Clock()
    b = CircuitBreaker(window=4, min_episodes=2, max_failure_rate=0.75, cooldown_s=10, max_cooldown_s=25, clock=clock)
    b.record([False, False])
    assert b.state == "open"
    clock.t += 10
    assert b.allow()
    b.record([False, False, False, True])   # 3/4 failed: open again, 20 s
    assert b.state == "open" and b.remaining_s() == pytest.approx(20) and b.trips == 2
    clock.t += 20
    assert b.allow()
    b.record([False])                       # capped at 25 s
    assert b.remaining_s() == pytest.approx(25)
    clock.t += 25
    assert b.allow()
    b.record([True])                        # recovered: back to the base cooldown
    assert b.state == "closed" and b.cooldown == 10


def test_only_the_last_window_counts():
    b = CircuitBreaker(window=4, min_episodes=4, max_failure_rate=0.5, clock=Clock())
    b.record([False, True, True, True, True])  # the failure has left the 4-episode window
    assert b.state == "closed"


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        CircuitBreaker(window=2, min_episodes=4)
    with pytest.raises(ValueError):
        CircuitBreaker(max_failure_rate=0)
