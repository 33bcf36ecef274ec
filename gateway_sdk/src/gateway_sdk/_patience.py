"""How the gateway clients wait out a gateway they cannot reach (I/O-free).

One policy for the device worker's claims and results and for the customer
subscription's reconnections; the callers decide what counts as transient and
only sleep.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from sdk_core import Clock, SystemClock

__all__ = ["Patience"]


class Patience:
    """Waits from ``first`` seconds, doubling up to ``longest``, with jitter (so
    that a fleet does not come back in step); a wait the server asked for wins.
    After ``max_outage`` seconds of failures in a row (``None``: no limit) it
    gives up; ``ok()`` after a success starts it over. Time is the client's
    ``clock`` (a fake one in tests), jitter its ``rand``."""

    def __init__(
        self,
        first: float,
        max_outage: float | None,
        *,
        longest: float = 30.0,
        clock: Clock | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.first = max(first, 0.05)
        self.longest = longest
        self.max_outage = max_outage
        self._clock = clock or SystemClock()
        self._rand = rand
        self._failures = 0
        self._since: float | None = None

    def ok(self) -> None:
        self._failures = 0
        self._since = None

    def next_wait(self, *, asked: float | None = None, before: float | None = None) -> float | None:
        """Seconds to wait after one more failure, or ``None`` to give up: the
        outage has lasted ``max_outage``, or the wait would end at or after
        ``before`` (a monotonic time by which trying again is pointless)."""
        now = self._clock.monotonic()
        self._since = now if self._since is None else self._since
        if self.max_outage is not None and now - self._since >= self.max_outage:
            return None
        ceiling = min(self.longest, self.first * 2.0**self._failures)
        wait = asked if asked is not None else ceiling * (0.5 + self._rand() / 2)
        if before is not None and now + wait >= before:
            return None
        self._failures += 1
        return wait
