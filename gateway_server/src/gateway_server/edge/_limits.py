"""Rate limits: fixed windows per key (device, customer, auth attempt, socket),
and the check an endpoint makes, which keeps its verdict for the answer's headers."""

from __future__ import annotations

import math
from collections.abc import Callable

import attrs
from starlette.requests import Request

from .._errors import RateLimited

__all__ = ["VERDICT", "RateLimiter", "Verdict", "check_rate", "limited"]

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


class RateLimiter:
    """``limit`` events per ``period`` seconds per key, in fixed windows."""

    def __init__(
        self, limit: int, period: float, clock: Callable[[], float], max_keys: int = 100_000
    ) -> None:
        self.limit = limit
        self.period = period
        self.clock = clock
        self.max_keys = max_keys
        self._windows: dict[str, tuple[float, int]] = {}

    def peek(self, key: str) -> Verdict:
        """The verdict ``hit`` would give, without counting anything (for limits
        on failures: look before the attempt, count only when it fails)."""
        now = self.clock()
        start = math.floor(now / self.period) * self.period
        window_start, count = self._windows.get(key, (start, 0))
        if window_start != start:
            window_start, count = start, 0
        return Verdict(
            count < self.limit, self.limit, max(0, self.limit - count), window_start + self.period
        )

    def hit(self, key: str) -> Verdict:
        now = self.clock()
        start = math.floor(now / self.period) * self.period
        window_start, count = self._windows.get(key, (start, 0))
        if window_start != start:
            window_start, count = start, 0
        allowed = count < self.limit
        if allowed:
            count += 1
        if len(self._windows) >= self.max_keys and key not in self._windows:
            self._windows = {k: v for k, v in self._windows.items() if v[0] == start}
        self._windows[key] = (window_start, count)
        return Verdict(allowed, self.limit, max(0, self.limit - count), window_start + self.period)


def limited(verdict: Verdict, now: float) -> RateLimited:
    return RateLimited("too many requests", headers=verdict.headers(now))


def check_rate(request: Request, limiter: RateLimiter, key: str) -> None:
    """Count one request of ``key``; refuse it over the limit. The verdict goes
    with the request, so that the success answer carries its headers."""
    verdict = limiter.hit(key)
    if not verdict.allowed:
        raise limited(verdict, limiter.clock())
    request.scope[VERDICT] = verdict
