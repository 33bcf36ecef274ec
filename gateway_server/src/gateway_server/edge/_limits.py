"""Rate limits: fixed windows per key (device, customer, auth attempt, socket),
and the check an endpoint makes, which keeps its verdict for the answer's headers.

:class:`RateLimiter` counts in this process. The limits a caller must not
escape by reaching another process (requests per device and customer, failed
attempts) are :class:`Limits`: counted here (:class:`LocalLimits`) or in Redis
(``RedisLimits``, ``_redis_limits.py``), with one window rule (:func:`window`)."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

import attrs
from starlette.requests import Request

from .._errors import RateLimited

__all__ = [
    "VERDICT",
    "FailureBudget",
    "Limits",
    "LimitsFactory",
    "LocalLimits",
    "RateLimiter",
    "Verdict",
    "check_rate",
    "in_process",
    "limited",
    "window",
]

VERDICT = "gateway.rate_verdict"  # scope key: the rate-limit verdict of this request


@attrs.frozen
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_at: float

    def headers(self, now: float) -> dict[str, str]:
        """The rate-limit headers, with ``Retry-After`` when refused (a 429's)."""
        headers = {name.decode(): value.decode() for name, value in self.raw_headers()}
        if not self.allowed:
            headers["Retry-After"] = str(max(1, math.ceil(self.reset_at - now)))
        return headers

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """The three X-RateLimit headers as ASGI header pairs: every
        authenticated answer carries them, so they are built without a dict."""
        return [
            (b"x-ratelimit-limit", b"%d" % self.limit),
            (b"x-ratelimit-remaining", b"%d" % self.remaining),
            (b"x-ratelimit-reset", b"%d" % math.ceil(self.reset_at)),
        ]


def window(now: float, period: float) -> float:
    """When the fixed window holding ``now`` started (windows of ``period``
    seconds from the epoch, so every process agrees on them)."""
    return math.floor(now / period) * period


class RateLimiter:
    """``limit`` events per ``period`` seconds per key, in fixed windows.

    Only the current window's counts are kept (a fixed window forgets the
    last one anyway), so a new window starts with an empty table. At most
    ``max_keys`` keys are counted in a window: past that the key counted
    first is dropped and starts again. So memory is bounded and a hit is
    O(1) whatever the number of keys (keys come from unauthenticated input,
    addresses and device ids); under a flood of new keys a limit can loosen
    for the oldest keys, never refuse a caller wrongly.
    """

    def __init__(
        self, limit: int, period: float, clock: Callable[[], float], max_keys: int = 100_000
    ) -> None:
        self.limit = limit
        self.period = period
        self.clock = clock
        self.max_keys = max_keys
        self._window = -math.inf
        self._counts: OrderedDict[str, int] = OrderedDict()

    def __len__(self) -> int:
        """How many keys this window counts."""
        return len(self._counts)

    def peek(self, key: str) -> Verdict:
        """The verdict ``hit`` would give, without counting anything (for limits
        on failures: look before the attempt, count only when it fails)."""
        start = window(self.clock(), self.period)
        count = self._counts.get(key, 0) if start == self._window else 0
        return Verdict(count < self.limit, self.limit, self.limit - count, start + self.period)

    def hit(self, key: str) -> Verdict:
        start = window(self.clock(), self.period)
        counts = self._counts
        if start != self._window:
            self._window = start
            counts = self._counts = OrderedDict()
        count = counts.get(key, 0)
        allowed = count < self.limit
        if allowed:
            count += 1
            if count == 1 and len(counts) >= self.max_keys:
                counts.popitem(last=False)
            counts[key] = count
        return Verdict(allowed, self.limit, self.limit - count, start + self.period)


class Limits(Protocol):
    """A limit of ``limit`` events per period per key, counted wherever the
    implementation counts: its :meth:`hit` and :meth:`peek` are
    :class:`RateLimiter`'s, awaited (they may ask Redis, and raise
    :class:`~gateway_server.Unavailable` when it does not answer)."""

    @property
    def limit(self) -> int: ...

    async def hit(self, key: str) -> Verdict: ...

    async def peek(self, key: str) -> Verdict: ...


LimitsFactory = Callable[[str, int, float], Limits]
"""Makes the limit named ``name`` (a key space) of ``limit`` per ``period`` seconds."""


class LocalLimits:
    """:class:`Limits` counted in this process, by a :class:`RateLimiter`."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    @property
    def limit(self) -> int:
        return self.limiter.limit

    async def hit(self, key: str) -> Verdict:
        return self.limiter.hit(key)

    async def peek(self, key: str) -> Verdict:
        return self.limiter.peek(key)


def in_process(clock: Callable[[], float]) -> LimitsFactory:
    """Limits counted in this process (each process its own), the default."""
    return lambda name, limit, period: LocalLimits(RateLimiter(limit, period, clock))


def limited(verdict: Verdict, now: float) -> RateLimited:
    return RateLimited("too many requests", headers=verdict.headers(now))


class FailureBudget:
    """Failed attempts to prove a name (a device id, a username): counted per
    name and client address, and per address across names (``per_address``
    times as many), a minute at a time. Only failures spend it: a caller that
    proves the name is never refused for someone else's failures elsewhere.
    Whether a spent budget also refuses a right answer from that address is the
    caller's policy: :meth:`spent` looks first, :meth:`fail` counts after.
    ``limits`` makes the counters (``name``: their key space); in this process
    by default."""

    def __init__(
        self,
        per_minute: int,
        clock: Callable[[], float],
        *,
        per_address: int = 30,
        limits: LimitsFactory | None = None,
        name: str = "failures",
    ) -> None:
        self.clock = clock
        make = limits or in_process(clock)
        self._by_name = make(f"{name}-by-name", per_minute, 60.0)
        self._by_address = make(f"{name}-by-address", per_minute * per_address, 60.0)

    def _keys(self, name: str, address: str) -> tuple[tuple[Limits, str], ...]:
        return ((self._by_name, f"{name}\x00{address}"), (self._by_address, address))

    async def spent(self, name: str, address: str) -> RateLimited | None:
        """The 429 to answer with if the budget is spent already (counts nothing)."""
        for limits, key in self._keys(name, address):
            verdict = await limits.peek(key)
            if not verdict.allowed:
                return limited(verdict, self.clock())
        return None

    async def fail(self, name: str, address: str) -> RateLimited | None:
        """Count one failure; the 429 to answer it with once past the budget."""
        for limits, key in self._keys(name, address):
            verdict = await limits.hit(key)
            if not verdict.allowed:
                return limited(verdict, self.clock())
        return None


async def check_rate(
    request: Request, limits: Limits, key: str, clock: Callable[[], float]
) -> None:
    """Count one request of ``key``; refuse it over the limit. The verdict goes
    with the request, so that the success answer carries its headers."""
    verdict = await limits.hit(key)
    if not verdict.allowed:
        raise limited(verdict, clock())
    request.scope[VERDICT] = verdict
