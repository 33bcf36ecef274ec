"""When to try a request again, and how long to wait first.

:class:`RetryPolicy` is immutable (change it with :meth:`RetryPolicy.replace`)
and I/O-free: :meth:`RetryPolicy.decide` looks at one attempt's outcome and
answers *retry after N seconds* or *give up*. The sync and async clients both
drive it through tenacity, so the rules below are written once:

- Retried: connection errors, timeouts, and the statuses 408, 429, 500, 502,
  503, 504, at most ``max_retries`` times.
- A request that is not idempotent (POST, PATCH) is retried only when it
  cannot have reached the server (a refused connection, a connect or pool
  timeout, or an answer 408/429, which say the server did not process it),
  unless the call is marked idempotent or carries an idempotency key.
- A request whose body cannot be replayed (a generator, a file stream) is
  never retried.
- The wait is what the server asked (``retry-after-ms``, ``Retry-After`` in
  seconds or as an HTTP date, or, on a 429 without either, the rate-limit
  reset header). A server wait over ``max_server_wait`` is not honoured by
  sleeping: the call gives up at once and the error carries the wait.
  Otherwise: exponential backoff with full jitter,
  ``uniform(0, min(max_backoff, initial_backoff * 2**retry))``.
- ``deadline`` bounds the whole call, all attempts and waits included: a wait
  that would cross it is not taken, and each attempt's timeout is cut to the
  time left.
"""

from __future__ import annotations

import random as _random
from collections.abc import Callable
from typing import Any

import attrs
import httpx

from ._clock import Clock
from ._rate_limit import RateLimitInfo, parse_retry_after

__all__ = ["Decision", "RetryPolicy"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# The server says it did not act on the request: safe to send again whatever the method.
NOT_PROCESSED_STATUSES = frozenset({408, 429})
# Transport failures that happen before a single byte of the request left.
_NOT_SENT_ERRORS: tuple[type[BaseException], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)


@attrs.frozen
class Decision:
    retry: bool
    wait: float = 0.0
    reason: str = ""


def is_replayable(request: httpx.Request) -> bool:
    """Whether the request body can be sent again byte for byte."""
    return isinstance(request.stream, httpx.ByteStream)


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """Immutable retry settings with a total deadline (google-api-core style)."""

    max_retries: int = attrs.field(default=2, validator=attrs.validators.ge(0))
    initial_backoff: float = 0.5
    max_backoff: float = 8.0
    max_server_wait: float = 60.0
    """The longest server-requested wait we sleep through; beyond it we raise."""
    deadline: float | None = None
    """Seconds for the whole call across attempts; ``None`` for no bound."""
    retry_statuses: frozenset[int] = RETRY_STATUSES

    def replace(self, **changes: Any) -> RetryPolicy:
        return attrs.evolve(self, **changes)

    def backoff(self, retries_taken: int, rand: Callable[[], float]) -> float:
        ceiling = min(self.max_backoff, self.initial_backoff * (2.0**retries_taken))
        return float(rand()) * ceiling

    def server_wait(self, response: httpx.Response, now: float) -> float | None:
        wait = parse_retry_after(response.headers, now)
        if wait is None and response.status_code == 429:
            wait = RateLimitInfo.from_headers(response.headers, now=now).reset_after
        return wait

    def decide(
        self,
        *,
        request: httpx.Request,
        response: httpx.Response | None,
        error: BaseException | None,
        retries_taken: int,
        elapsed: float,
        idempotent: bool,
        clock: Clock,
        rand: Callable[[], float] = _random.random,
    ) -> Decision:
        """Retry or give up after one attempt that got ``response`` or raised ``error``."""
        if response is not None:
            status = response.status_code
            if status not in self.retry_statuses:
                return Decision(False, reason="status not retryable")
            reached = status not in NOT_PROCESSED_STATUSES
        elif error is not None:
            cause = error.__cause__ if error.__cause__ is not None else error
            if not isinstance(cause, httpx.TransportError):
                return Decision(False, reason="not a transport error")
            reached = not isinstance(cause, _NOT_SENT_ERRORS)
        else:
            return Decision(False, reason="success")

        if reached and not idempotent:
            return Decision(False, reason="not idempotent and may have reached the server")
        if not is_replayable(request):
            return Decision(False, reason="body cannot be replayed")
        if retries_taken >= self.max_retries:
            return Decision(False, reason="retries exhausted")

        wait: float | None = None
        if response is not None:
            wait = self.server_wait(response, clock.time())
            if wait is not None and wait > self.max_server_wait:
                return Decision(False, wait=wait, reason="server asked for a wait over the cap")
        if wait is None:
            wait = self.backoff(retries_taken, rand)
        if self.deadline is not None and elapsed + wait >= self.deadline:
            return Decision(False, wait=wait, reason="deadline would pass")
        return Decision(True, wait=wait, reason="retryable")

    def is_idempotent(self, method: str, *, marked: bool | None, has_key: bool) -> bool:
        if marked is not None:
            return marked
        return has_key or method.upper() in IDEMPOTENT_METHODS
