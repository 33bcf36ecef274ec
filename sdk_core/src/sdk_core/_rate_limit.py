"""Rate-limit headers and server-requested waits.

Two header families are in use across our APIs: ``X-Rate-Limit-Limit`` /
``X-Rate-Limit-Remaining`` / ``X-Rate-Limit-Reset`` (Nexthink, EXASPERATION;
Nexthink also sends a bare ``X-Rate-Limit``) and ``X-RateLimit-*`` (KubeNexus,
the device gateway). Both parse into one :class:`RateLimitInfo`.

A reset value is read as seconds from now, unless it is so large that it can
only be a Unix timestamp (more than a year of seconds), in which case it is
converted to seconds from now with the wall clock given.
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping

import attrs

__all__ = ["RateLimitInfo", "parse_retry_after"]

_LIMIT = ("x-rate-limit-limit", "x-ratelimit-limit", "x-rate-limit", "ratelimit-limit")
_REMAINING = ("x-rate-limit-remaining", "x-ratelimit-remaining", "ratelimit-remaining")
_RESET = ("x-rate-limit-reset", "x-ratelimit-reset", "ratelimit-reset")
_A_YEAR_OF_SECONDS = 366 * 24 * 3600


def _first(headers: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = headers.get(name)
        if value is not None and value.strip():
            return value.strip()
    return None


def _to_int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


def _seconds_until(value: str | None, now: float) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return _http_date_delta(value, now)
    if number > _A_YEAR_OF_SECONDS:
        return max(0.0, number - now)
    return max(0.0, number)


def _http_date_delta(value: str, now: float) -> float | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, parsed.timestamp() - now)


def parse_retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds the server asks us to wait, or ``None`` when it asks nothing.

    ``retry-after-ms`` wins over ``Retry-After``; ``Retry-After`` is either a
    number of seconds or an HTTP date (compared with ``now``, a Unix time).
    """
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        return _http_date_delta(value, now)


@attrs.frozen
class RateLimitInfo:
    """What the server said about the caller's rate limit on one response.

    Every field is ``None`` when the response did not carry it.
    """

    limit: int | None = None
    remaining: int | None = None
    reset_after: float | None = None
    """Seconds until the window resets."""
    retry_after: float | None = None
    """Seconds the server asked the caller to wait (``Retry-After``)."""

    @classmethod
    def from_headers(cls, headers: Mapping[str, str], *, now: float) -> RateLimitInfo:
        lowered = {k.lower(): v for k, v in headers.items()}
        return cls(
            limit=_to_int(_first(lowered, _LIMIT)),
            remaining=_to_int(_first(lowered, _REMAINING)),
            reset_after=_seconds_until(_first(lowered, _RESET), now),
            retry_after=parse_retry_after(lowered, now),
        )

    @property
    def is_empty(self) -> bool:
        return all(v is None for v in attrs.astuple(self))
