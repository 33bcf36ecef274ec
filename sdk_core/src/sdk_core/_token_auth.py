"""Credentials on requests: token managers with single-flight refresh, and static keys.

Concurrency contract of :class:`TokenAuth` (read this first):

- **Single flight.** At most one token request is in flight per ``TokenAuth``
  among threads (a ``threading.Lock``) and, separately, among the tasks of an
  event loop (an ``asyncio.Lock``). A thousand calls that find the token
  expired cause exactly one token request; the others wait for it and use its
  token. A caller that finds a fresh token takes no lock at all.
- **Early refresh.** Within ``refresh_margin`` seconds of expiry the token is
  still valid: one caller refreshes it while the others keep using the current
  token without waiting. If that early refresh fails, the failure is logged
  and the still-valid token keeps being served; the next call tries again.
- **Expired.** An expired or missing token makes callers wait for the refresh.
  If it fails, the caller that made it gets the error, and so does every
  caller that was queued behind that same attempt (no stampede of retries
  against a failing token endpoint).
- **Rejected.** A 401 on a request forces one refresh and one replay of the
  request, provided its body can be replayed. Callers whose rejected token
  was already replaced reuse the replacement instead of refreshing again.
- **Retries.** A token request the caller must wait for (no valid token) is
  retried like any idempotent call, by the policy of the client the auth is
  bound to: connection errors, 5xx, 429 with ``Retry-After``. An early
  refresh is tried once (a valid token is in hand; the next call tries again).
  Errors say they came from the token request (``error.context``).
- **Secrets.** Tokens, client secrets and passwords are :class:`Secret`:
  never in ``repr()``, ``str()`` or logs.

The clock is injectable (``clock=``) so expiry is testable without sleeping.
Token requests go out over the HTTP client the SDK client binds
(the same pool, proxies and TLS settings), or a private one when none is bound.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import AsyncGenerator, Callable, Generator

import attrs
import httpx

from ._auth import Token, TokenProvider
from ._clock import SYSTEM_CLOCK, AsyncSleep, Clock, Sleep, default_async_sleep, default_sleep
from ._exceptions import APIConnectionError, APITimeoutError, SDKError
from ._logging import get_logger
from ._retry import CallState, RetryPolicy, asend_with_retries, is_replayable, send_with_retries
from ._secrets import redact_url

__all__ = ["TokenAuth"]

log = get_logger("sdk_core")


@attrs.frozen
class _Attempt:
    """One token fetch: its outcome, for the callers queued behind it."""

    number: int
    error: BaseException | None = None


class TokenAuth(httpx.Auth):
    """An ``httpx.Auth`` that keeps a token fresh; see the module docstring."""

    requires_request_body = False
    requires_response_body = False

    def __init__(
        self,
        provider: TokenProvider,
        *,
        refresh_margin: float = 60.0,
        clock: Clock | None = None,
        header: str = "Authorization",
        scheme: str | None = "Bearer",
    ) -> None:
        self.provider = provider
        self.refresh_margin = refresh_margin
        self.clock: Clock = clock or SYSTEM_CLOCK
        self.header = header
        self.scheme = scheme
        self._token: Token | None = None
        self._attempts = 0
        self._last: _Attempt = _Attempt(0)
        self._thread_lock = threading.Lock()
        self._async_lock: asyncio.Lock | None = None
        self._async_lock_loop: asyncio.AbstractEventLoop | None = None
        self._sync_client: httpx.Client | None = None
        self._async_client: httpx.AsyncClient | None = None
        self._owned: list[httpx.Client | httpx.AsyncClient] = []
        self._retry_policy = RetryPolicy()
        self._sleep: Sleep = default_sleep
        self._async_sleep: AsyncSleep = default_async_sleep
        self._rand: Callable[[], float] = random.random

    def __repr__(self) -> str:
        return f"TokenAuth(provider={self.provider!r}, refresh_margin={self.refresh_margin!r})"

    # -- binding ------------------------------------------------------------
    def bind(
        self,
        client: httpx.Client | httpx.AsyncClient,
        *,
        retry_policy: RetryPolicy | None = None,
        sleep: Sleep | None = None,
        async_sleep: AsyncSleep | None = None,
        rand: Callable[[], float] | None = None,
    ) -> None:
        """Send token requests over ``client``, retried by ``retry_policy`` (done by
        the SDK clients, with their own policy, sleep and jitter)."""
        if isinstance(client, httpx.AsyncClient):
            self._async_client = client
        else:
            self._sync_client = client
        if retry_policy is not None:
            self._retry_policy = retry_policy
        if sleep is not None:
            self._sleep = sleep
        if async_sleep is not None:
            self._async_sleep = async_sleep
        if rand is not None:
            self._rand = rand

    def _token_call(self, request: httpx.Request) -> CallState:
        call = CallState(self.clock.monotonic(), idempotent=True)
        call.request = request
        return call

    @property
    def token(self) -> Token | None:
        return self._token

    def invalidate(self) -> None:
        """Forget the current token (e.g. after a logout)."""
        self._token = None

    # -- I/O-free decisions, shared by both flavours -------------------------
    def _authorize(self, request: httpx.Request, token: Token) -> None:
        value = token.access_token.reveal()
        request.headers[self.header] = f"{self.scheme} {value}" if self.scheme else value

    def _fresh(self, now: float) -> Token | None:
        token = self._token
        if token is not None and not token.needs_refresh(now, self.refresh_margin):
            return token
        return None

    def _still_valid(self, now: float) -> Token | None:
        token = self._token
        if token is not None and not token.is_expired(now):
            return token
        return None

    def _after_wait(self, seen_attempt: int, rejected: Token | None) -> Token | None:
        """Under the lock: what a caller that waited can use without fetching.

        Raises the error of the attempt it queued behind, if that one failed.
        """
        now = self.clock.monotonic()
        token = self._token
        if rejected is not None:
            if token is not None and token is not rejected and not token.is_expired(now):
                return token
        else:
            fresh = self._fresh(now)
            if fresh is not None:
                return fresh
        if self._last.number > seen_attempt and self._last.error is not None:
            raise self._last.error
        return None

    def _start_attempt(self) -> int:
        self._attempts += 1
        return self._attempts

    def _finish(self, number: int, token: Token | None, error: BaseException | None) -> None:
        if token is not None:
            self._token = token
        self._last = _Attempt(number, error)

    @staticmethod
    def _wrap_transport(exc: httpx.TransportError, request: httpx.Request) -> SDKError:
        url = redact_url(request.url)
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(f"token request to {url} timed out", request=request)
        return APIConnectionError(f"token request to {url} failed: {exc}", request=request)

    # -- sync ----------------------------------------------------------------
    def _sync_send(self, request: httpx.Request, *, retry: bool) -> httpx.Response:
        client = self._sync_client
        if client is None:
            client = self._sync_client = httpx.Client()
            self._owned.append(client)

        def attempt() -> httpx.Response:
            try:
                response = client.send(request, auth=None)
                response.read()
            except httpx.TransportError as exc:
                raise self._wrap_transport(exc, request) from exc
            return response

        if not retry:
            return attempt()
        return send_with_retries(
            attempt,
            self._token_call(request),
            self._retry_policy,
            clock=self.clock,
            rand=self._rand,
            sleep=self._sleep,
            log=log,
            what="token request ",
        )

    def _sync_fetch(self, *, retry: bool = True) -> Token:
        number = self._start_attempt()
        flow = self.provider.token_flow(self._token, self.clock.monotonic())
        try:
            request = next(flow)
            while True:
                request = flow.send(self._sync_send(request, retry=retry))
        except StopIteration as stop:
            token: Token = stop.value
            self._finish(number, token, None)
            return token
        except BaseException as exc:
            self._finish(number, None, exc)
            raise

    def get_token(self, *, rejected: Token | None = None) -> Token:
        """A usable token (sync); ``rejected`` is one the server just refused."""
        now = self.clock.monotonic()
        if rejected is None:
            fresh = self._fresh(now)
            if fresh is not None:
                return fresh
            valid = self._still_valid(now)
            if valid is not None:
                if not self._thread_lock.acquire(blocking=False):
                    return valid
                try:
                    if self._token is not valid:
                        return self._token or valid
                    return self._sync_fetch(retry=False)
                except SDKError as exc:
                    log.warning("early token refresh failed, keeping the current token: %s", exc)
                    return valid
                finally:
                    self._thread_lock.release()
        seen = self._last.number
        with self._thread_lock:
            usable = self._after_wait(seen, rejected)
            if usable is not None:
                return usable
            return self._sync_fetch()

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.get_token()
        self._authorize(request, token)
        response = yield request
        if response.status_code == 401 and is_replayable(request):
            token = self.get_token(rejected=token)
            self._authorize(request, token)
            yield request

    # -- async ---------------------------------------------------------------
    def _get_async_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._async_lock is None or self._async_lock_loop is not loop:
            self._async_lock = asyncio.Lock()
            self._async_lock_loop = loop
        return self._async_lock

    async def _async_send(self, request: httpx.Request, *, retry: bool) -> httpx.Response:
        client = self._async_client
        if client is None:
            client = self._async_client = httpx.AsyncClient()
            self._owned.append(client)

        async def attempt() -> httpx.Response:
            try:
                response = await client.send(request, auth=None)
                await response.aread()
            except httpx.TransportError as exc:
                raise self._wrap_transport(exc, request) from exc
            return response

        if not retry:
            return await attempt()
        return await asend_with_retries(
            attempt,
            self._token_call(request),
            self._retry_policy,
            clock=self.clock,
            rand=self._rand,
            sleep=self._async_sleep,
            log=log,
            what="token request ",
        )

    async def _async_fetch(self, *, retry: bool = True) -> Token:
        number = self._start_attempt()
        flow = self.provider.token_flow(self._token, self.clock.monotonic())
        try:
            request = next(flow)
            while True:
                request = flow.send(await self._async_send(request, retry=retry))
        except StopIteration as stop:
            token: Token = stop.value
            self._finish(number, token, None)
            return token
        except BaseException as exc:
            self._finish(number, None, exc)
            raise

    async def aget_token(self, *, rejected: Token | None = None) -> Token:
        """A usable token (async); ``rejected`` is one the server just refused."""
        now = self.clock.monotonic()
        lock = self._get_async_lock()
        if rejected is None:
            fresh = self._fresh(now)
            if fresh is not None:
                return fresh
            valid = self._still_valid(now)
            if valid is not None:
                if lock.locked():
                    return valid
                async with lock:
                    try:
                        if self._token is not valid:
                            return self._token or valid
                        return await self._async_fetch(retry=False)
                    except SDKError as exc:
                        log.warning(
                            "early token refresh failed, keeping the current token: %s", exc
                        )
                        return valid
        seen = self._last.number
        async with lock:
            usable = self._after_wait(seen, rejected)
            if usable is not None:
                return usable
            return await self._async_fetch()

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.aget_token()
        self._authorize(request, token)
        response = yield request
        if response.status_code == 401 and is_replayable(request):
            token = await self.aget_token(rejected=token)
            self._authorize(request, token)
            yield request

    def close(self) -> None:
        for client in self._owned:
            if isinstance(client, httpx.Client):
                client.close()
        self._owned = [c for c in self._owned if isinstance(c, httpx.AsyncClient)]

    async def aclose(self) -> None:
        for client in self._owned:
            if isinstance(client, httpx.AsyncClient):
                await client.aclose()
        self._owned = [c for c in self._owned if isinstance(c, httpx.Client)]
