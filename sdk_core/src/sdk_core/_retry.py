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

:meth:`RetryPolicy.strategies` turns the policy into tenacity's own ``retry``,
``wait``, ``stop`` and ``before_sleep`` strategies. :func:`send_with_retries`
(and :func:`asend_with_retries`) make the first attempt in one plain branch,
since most calls succeed and need no retry machinery; an outcome that may be
retried goes to tenacity, which decides, waits and tries again.
"""

from __future__ import annotations

import logging
import random as _random
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import httpx
import tenacity
from tenacity.wait import wait_base

from ._clock import AsyncSleep, Clock, Sleep
from ._exceptions import APIConnectionError
from ._rate_limit import RateLimitInfo, parse_retry_after
from ._secrets import redact_url

__all__ = [
    "CallState",
    "Decision",
    "RetryPolicy",
    "asend_with_retries",
    "send_with_retries",
]

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

    def strategies(
        self,
        call: CallState,
        *,
        clock: Clock,
        rand: Callable[[], float],
        log: logging.Logger,
        what: str = "",
    ) -> dict[str, Any]:
        """tenacity's ``retry``, ``wait``, ``stop`` and ``before_sleep`` for one call."""
        return {
            "retry": _RetryByPolicy(self, call, clock, rand, log),
            "wait": _WaitAsDecided(call),
            "stop": tenacity.stop_after_attempt(self.max_retries + 1),
            "before_sleep": _LogRetry(self, call, log, what),
            "reraise": True,
        }


class CallState:
    """One call across its attempts: what the strategies and the request builder share."""

    __slots__ = ("decision", "idempotent", "request", "retries", "start")

    def __init__(self, start: float, idempotent: bool) -> None:
        self.start = start
        self.idempotent = idempotent
        self.retries = 0
        self.request: httpx.Request | None = None
        self.decision = Decision(False)


class _RetryByPolicy(tenacity.retry_base):
    """Retry when :meth:`RetryPolicy.decide` says so; remembers its decision for ``wait``."""

    def __init__(
        self,
        policy: RetryPolicy,
        call: CallState,
        clock: Clock,
        rand: Callable[[], float],
        log: logging.Logger,
    ) -> None:
        self.policy = policy
        self.call = call
        self.clock = clock
        self.rand = rand
        self.log = log

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        outcome = retry_state.outcome
        call = self.call
        assert outcome is not None
        assert call.request is not None
        response: httpx.Response | None = None
        error: BaseException | None = None
        if outcome.failed:
            error = outcome.exception()
            if not isinstance(error, APIConnectionError):
                return False
        else:
            response = outcome.result()
        call.decision = self.policy.decide(
            request=call.request,
            response=response,
            error=error,
            retries_taken=retry_state.attempt_number - 1,
            elapsed=self.clock.monotonic() - call.start,
            idempotent=call.idempotent,
            clock=self.clock,
            rand=self.rand,
        )
        if not call.decision.retry and (error is not None or response.is_error):  # type: ignore[union-attr]
            self.log.debug("not retrying: %s", call.decision.reason)
        return call.decision.retry


class _WaitAsDecided(wait_base):
    def __init__(self, call: CallState) -> None:
        self.call = call

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        return self.call.decision.wait


class _LogRetry:
    def __init__(self, policy: RetryPolicy, call: CallState, log: logging.Logger, what: str):
        self.policy = policy
        self.call = call
        self.log = log
        self.what = what

    def __call__(self, retry_state: tenacity.RetryCallState) -> None:
        call = self.call
        call.retries = retry_state.attempt_number
        assert call.request is not None
        self.log.info(
            "retrying %s%s %s in %.2fs (retry %d of %d)",
            self.what,
            call.request.method,
            redact_url(call.request.url),
            call.decision.wait,
            call.retries,
            self.policy.max_retries,
        )


_ExcInfo = tuple[type[BaseException], BaseException, Any]


def _seeded(
    retrying: tenacity.BaseRetrying, attempt: Callable[[], Any], first: httpx.Response | _ExcInfo
) -> tenacity.RetryCallState:
    """tenacity's state for a call whose first attempt was made outside it."""
    retrying.begin()
    state = tenacity.RetryCallState(retrying, fn=attempt, args=(), kwargs={})
    if isinstance(first, httpx.Response):
        state.set_result(first)
    else:
        state.set_exception(first)
    return state


def send_with_retries(
    attempt: Callable[[], httpx.Response],
    call: CallState,
    policy: RetryPolicy,
    *,
    clock: Clock,
    rand: Callable[[], float],
    sleep: Sleep,
    log: logging.Logger,
    what: str = "",
) -> httpx.Response:
    """``attempt()`` until it answers a status the policy does not retry, or tenacity
    gives up (raising the last connection error, or returning the last response)."""
    first: httpx.Response | _ExcInfo
    try:
        first = attempt()
    except APIConnectionError:
        if policy.max_retries == 0:
            raise
        first = sys.exc_info()  # type: ignore[assignment]
    else:
        if first.status_code not in policy.retry_statuses:
            return first  # the plain branch: nothing for tenacity to decide
    strategies = policy.strategies(call, clock=clock, rand=rand, log=log, what=what)
    retrying = tenacity.Retrying(sleep=sleep, **strategies)
    state = _seeded(retrying, attempt, first)
    while True:
        do = retrying.iter(retry_state=state)
        if isinstance(do, tenacity.DoAttempt):
            try:
                state.set_result(attempt())
            except BaseException:
                state.set_exception(sys.exc_info())  # type: ignore[arg-type]
        elif isinstance(do, tenacity.DoSleep):
            state.prepare_for_next_attempt()
            sleep(do)
        else:
            return do  # type: ignore[no-any-return]


async def asend_with_retries(
    attempt: Callable[[], Awaitable[httpx.Response]],
    call: CallState,
    policy: RetryPolicy,
    *,
    clock: Clock,
    rand: Callable[[], float],
    sleep: AsyncSleep,
    log: logging.Logger,
    what: str = "",
) -> httpx.Response:
    """The async twin of :func:`send_with_retries`."""
    first: httpx.Response | _ExcInfo
    try:
        first = await attempt()
    except APIConnectionError:
        if policy.max_retries == 0:
            raise
        first = sys.exc_info()  # type: ignore[assignment]
    else:
        if first.status_code not in policy.retry_statuses:
            return first  # the plain branch: nothing for tenacity to decide
    strategies = policy.strategies(call, clock=clock, rand=rand, log=log, what=what)
    retrying = tenacity.AsyncRetrying(sleep=sleep, **strategies)
    state = _seeded(retrying, attempt, first)
    while True:
        do = await retrying.iter(retry_state=state)
        if isinstance(do, tenacity.DoAttempt):
            try:
                state.set_result(await attempt())
            except BaseException:
                state.set_exception(sys.exc_info())  # type: ignore[arg-type]
        elif isinstance(do, tenacity.DoSleep):
            state.prepare_for_next_attempt()
            await sleep(do)
        else:
            return do  # type: ignore[no-any-return]
