"""A client-side rate limiter: stay under the server's limits instead of hitting them.

Concurrency contract (read this first):

- One :class:`RateLimiter` is shared by every thread using a sync client
  (:meth:`acquire` / :meth:`release`) or by every task using an async client
  (:meth:`aacquire` / :meth:`arelease`). Use one limiter per client flavour;
  copies made with ``with_options`` share their client's limiter.
- **In flight.** At most ``max_concurrent`` requests hold a slot at once. A
  slot is held from just before a request is sent until its response has
  arrived (for a streamed response: until its headers have).
- **Window.** At most ``max_requests`` requests start in any ``period``
  seconds (a sliding log of start times, so a burst at the end of one minute
  and another at the start of the next cannot add up).
- **Server correction.** :meth:`observe` reads every response's rate-limit
  headers: a server limit lower than ours replaces ours; a reported
  ``remaining`` with a reset time caps how many more requests start before
  that reset (others sharing the key count there, not here); a 429's wait
  (``Retry-After`` or the reset) holds every request until it has passed.
- Waits read the injectable ``clock`` and use the injectable ``sleep`` /
  ``async_sleep``, so a test can drive minutes of traffic instantly.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Mapping

from ._clock import SYSTEM_CLOCK, AsyncSleep, Clock, Sleep, default_async_sleep, default_sleep
from ._rate_limit import RateLimitInfo

__all__ = ["RateLimiter"]


class RateLimiter:
    def __init__(
        self,
        max_requests: int = 60,
        period: float = 60.0,
        max_concurrent: int | None = 5,
        *,
        clock: Clock = SYSTEM_CLOCK,
        sleep: Sleep | None = None,
        async_sleep: AsyncSleep | None = None,
    ) -> None:
        if max_requests < 1 or period <= 0:
            raise ValueError("max_requests must be >= 1 and period > 0")
        if max_concurrent is not None and max_concurrent < 1:
            raise ValueError("max_concurrent must be >= 1 or None")
        self.max_requests = max_requests
        self.period = period
        self.max_concurrent = max_concurrent
        self.clock = clock
        self._sleep = sleep or default_sleep
        self._async_sleep = async_sleep or default_async_sleep
        self._lock = threading.Lock()
        self._starts: deque[float] = deque()
        self._blocked_until = 0.0
        self._server_budget: int | None = None
        self._server_reset_at = 0.0
        self._in_flight = 0
        self._thread_slots = threading.Condition(threading.Lock())
        self._async_slots: asyncio.Condition | None = None
        self._async_loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return (
            f"RateLimiter(max_requests={self.max_requests}, period={self.period}, "
            f"max_concurrent={self.max_concurrent})"
        )

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def _slot_free(self) -> bool:
        return self.max_concurrent is None or self._in_flight < self.max_concurrent

    # -- the window: I/O-free --------------------------------------------------
    def _reserve(self) -> float:
        """Record a start now and return 0, or return how long to wait first."""
        with self._lock:
            now = self.clock.monotonic()
            starts = self._starts
            while starts and starts[0] <= now - self.period:
                starts.popleft()
            if self._blocked_until > now:
                return self._blocked_until - now
            if now >= self._server_reset_at:
                self._server_budget = None
            if self._server_budget is not None and self._server_budget <= 0:
                return self._server_reset_at - now
            if len(starts) >= self.max_requests:
                return starts[len(starts) - self.max_requests] + self.period - now
            starts.append(now)
            if self._server_budget is not None:
                self._server_budget -= 1
            return 0.0

    def observe(self, headers: Mapping[str, str], status_code: int = 200) -> None:
        """Correct the limiter with what a response said about the limit."""
        now = self.clock.monotonic()
        info = RateLimitInfo.from_headers(headers, now=self.clock.time())
        with self._lock:
            if info.limit is not None and 0 < info.limit < self.max_requests:
                self.max_requests = info.limit
            if info.remaining is not None and info.reset_after is not None:
                others_in_flight = max(0, self._in_flight - 1)
                self._server_budget = max(0, info.remaining - others_in_flight)
                self._server_reset_at = now + info.reset_after
            if status_code == 429:
                wait = info.retry_after if info.retry_after is not None else info.reset_after
                if wait is not None:
                    self._blocked_until = max(self._blocked_until, now + wait)

    # -- sync ----------------------------------------------------------------
    def acquire(self) -> None:
        """Block until a request may start (a slot free and the window open)."""
        with self._thread_slots:
            self._thread_slots.wait_for(self._slot_free)
            self._in_flight += 1
        try:
            while (wait := self._reserve()) > 0:
                self._sleep(wait)
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        with self._thread_slots:
            self._in_flight -= 1
            self._thread_slots.notify()

    # -- async ---------------------------------------------------------------
    def _async_condition(self) -> asyncio.Condition:
        loop = asyncio.get_running_loop()
        if self._async_slots is None or self._async_loop is not loop:
            self._async_slots = asyncio.Condition()
            self._async_loop = loop
        return self._async_slots

    async def aacquire(self) -> None:
        """Wait until a request may start (a slot free and the window open)."""
        condition = self._async_condition()
        async with condition:
            await condition.wait_for(self._slot_free)
            self._in_flight += 1
        try:
            while (wait := self._reserve()) > 0:
                await self._async_sleep(wait)
        except BaseException:
            await self.arelease()
            raise

    async def arelease(self) -> None:
        condition = self._async_condition()
        async with condition:
            self._in_flight -= 1
            condition.notify()
