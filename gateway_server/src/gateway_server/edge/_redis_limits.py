"""Rate limits counted in Redis, so that they hold across every process of a
deployment (``--redis-url``): the fixed windows of :class:`RateLimiter`
(:func:`window`, the same verdicts and headers), each count a Redis key that
expires with its window, and a hit one atomic script (count only below the
limit, as in-process). Redis not answering refuses the request with 503
(:class:`~gateway_server.Unavailable`) rather than letting it through
uncounted."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable

from .._errors import Unavailable
from ..events import RedisLink
from ._limits import LimitsFactory, Verdict, window

__all__ = ["RedisLimits", "redis_limits"]

# KEYS[1]: the key's count in this window; ARGV: the limit, its lifetime (ms).
_HIT = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count < tonumber(ARGV[1]) then
    count = redis.call('INCR', KEYS[1])
    if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
    return {1, count}
end
return {0, count}
"""
_SLACK = 5.0  # seconds a count outlives its window (processes' clocks differ a little)


class RedisLimits:
    """``limit`` events per ``period`` seconds per key, in Redis, under ``name``."""

    def __init__(
        self, link: RedisLink, name: str, limit: int, period: float, clock: Callable[[], float]
    ) -> None:
        self.link = link
        self.name = name
        self.limit = limit
        self.period = period
        self.clock = clock

    def _key(self, key: str, start: float) -> str:
        # Keys come from callers (addresses, device ids, usernames): hashed, so
        # that each costs Redis the same few bytes whatever was sent.
        digest = hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
        return f"{self.link.prefix}limit:{self.name}:{math.floor(start)}:{digest}"

    async def hit(self, key: str) -> Verdict:
        now = self.clock()
        start = window(now, self.period)
        lifetime = math.ceil((start + self.period - now + _SLACK) * 1000)
        try:
            allowed, count = await self.link.client.eval(
                _HIT, 1, self._key(key, start), self.limit, lifetime
            )
        except Exception as exc:
            raise _unavailable() from exc
        return Verdict(bool(allowed), self.limit, self.limit - int(count), start + self.period)

    async def peek(self, key: str) -> Verdict:
        start = window(self.clock(), self.period)
        try:
            count = int(await self.link.client.get(self._key(key, start)) or 0)
        except Exception as exc:
            raise _unavailable() from exc
        return Verdict(count < self.limit, self.limit, self.limit - count, start + self.period)


def _unavailable() -> Unavailable:
    # Not logged per request: the broker logs the outage once; the access log has the 503s.
    return Unavailable("the rate-limit store (redis) is unavailable; retry later")


def redis_limits(link: RedisLink, clock: Callable[[], float]) -> LimitsFactory:
    """Limits counted in Redis, shared by every process of the deployment."""
    return lambda name, limit, period: RedisLimits(link, name, limit, period, clock)
