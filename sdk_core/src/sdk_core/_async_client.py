"""The async client: sends with ``httpx.AsyncClient`` and sleeps with ``sleep``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar, Unpack, overload

import attrs
import httpx

from ._base_client import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, BaseClient, _Resource
from ._clock import AsyncSleep, Clock, default_async_sleep
from ._pages import AsyncPage, AsyncPageRequest
from ._pagination import Page, PaginationStrategy
from ._rate_limiter import RateLimiter
from ._response import APIResponse, AsyncStreamedAPIResponse, StreamStarted, streaming_requested
from ._retry import CallState, RetryPolicy, asend_with_retries
from ._token_auth import TokenAuth
from ._types import CallOptions, RequestOptions, apply_overrides

__all__ = ["AsyncAPIClient", "AsyncAPIResource"]

T = TypeVar("T")


class _OwnedAsyncClient(httpx.AsyncClient):
    """The async pool a client opened itself: closed on garbage collection when
    an event loop is running to close it (as openai-python does)."""

    def __del__(self) -> None:
        try:
            if not self.is_closed:
                asyncio.get_running_loop().create_task(self.aclose())
        except Exception:  # noqa: S110 - no running loop: nothing can be awaited here
            pass


class AsyncAPIClient(BaseClient[httpx.AsyncClient]):
    """The async twin: sends with ``httpx.AsyncClient``, sleeps with ``sleep``."""

    def __init__(
        self,
        *,
        base_url: str | httpx.URL,
        timeout: httpx.Timeout | float | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        deadline: float | None = None,
        max_retry_wait: float = 60.0,
        retry_policy: RetryPolicy | None = None,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        auth: httpx.Auth | None = None,
        rate_limiter: RateLimiter | None = None,
        clock: Clock | None = None,
        sleep: AsyncSleep | None = None,
        rand: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            max_retry_wait=max_retry_wait,
            retry_policy=retry_policy,
            default_headers=default_headers,
            auth=auth,
            clock=clock,
            rand=rand,
        )
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else self._preset(_OwnedAsyncClient())
        self._sleep: AsyncSleep = sleep or default_async_sleep
        self._rate_limiter = rate_limiter
        if isinstance(auth, TokenAuth):
            auth.bind(
                self._http,
                retry_policy=self._options.retry,
                async_sleep=self._sleep,
                rand=self._rand,
            )
        elif auth is not None and hasattr(auth, "bind"):
            auth.bind(self._http)

    async def _send(self, opts: RequestOptions) -> tuple[httpx.Response, CallState]:
        self._check_open(opts)
        run = self._new_run(opts)

        async def attempt() -> httpx.Response:
            request = self._build_request(opts, run)
            limiter = self._rate_limiter
            if limiter is not None:
                await limiter.aacquire()
            started = self._clock.monotonic()
            try:
                response = await self._http.send(
                    request, stream=opts.stream, auth=self._auth_for(opts)
                )
            except httpx.TransportError as exc:
                raise self._wrap_transport_error(exc, request) from exc
            finally:
                if limiter is not None:
                    await limiter.arelease()
            if limiter is not None:
                limiter.observe(response.headers, response.status_code)
            if opts.stream and response.is_error:
                await response.aread()
            self._log_attempt(request, response, started)
            return response

        response = await asend_with_retries(
            attempt,
            run,
            self._options.retry,
            clock=self._clock,
            rand=self._rand,
            sleep=self._sleep,
            log=self._log,
        )
        return response, run

    @overload
    async def request(
        self, method: str, url: str, *, cast_to: type[T], **options: Unpack[CallOptions]
    ) -> T: ...

    @overload
    async def request(
        self, method: str, url: str, *, cast_to: Any, **options: Unpack[CallOptions]
    ) -> Any: ...

    async def request(
        self, method: str, url: str, *, cast_to: Any, **options: Unpack[CallOptions]
    ) -> Any:
        """Send one call (with retries) and return its body as ``cast_to``
        (typed as ``cast_to`` when it is a class: ``cast_to=Cluster`` gives a
        ``Cluster``)."""
        opts = RequestOptions(method=method, url=url, **options)
        return (await self.request_raw(opts, cast_to)).parsed

    async def request_raw(
        self, opts: RequestOptions, cast_to: Any, overrides: Mapping[str, Any] | None = None
    ) -> APIResponse[Any]:
        """Send ``opts`` with the per-call ``overrides`` of a resource method applied."""
        if overrides:
            opts = apply_overrides(opts, overrides)
        if streaming_requested():
            await self._start_stream(opts, cast_to)
        response, run = await self._send(opts)
        try:
            return self._process(response, cast_to, run, opts)
        except BaseException:
            await response.aclose()
            raise

    async def _start_stream(self, opts: RequestOptions, cast_to: Any) -> None:
        response, run = await self._send(self._streamed(opts))
        if response.is_error and response.status_code not in opts.ok_statuses:
            await response.aclose()
            raise self._status_error(response)
        raise StreamStarted(
            AsyncStreamedAPIResponse(response, **self._stream_info(response, cast_to, run))
        )

    def request_page(
        self,
        opts: RequestOptions,
        cast_to: Any,
        *,
        to_page: Callable[[APIResponse[Any]], Page[T]],
        strategy: PaginationStrategy,
        overrides: Mapping[str, Any] | None = None,
    ) -> AsyncPageRequest[T]:
        """The first page of a list when awaited (or every item, with ``async for``)."""
        if overrides:
            opts = apply_overrides(opts, overrides)

        async def fetch(params: dict[str, Any]) -> AsyncPage[T]:
            raw = await self.request_raw(attrs.evolve(opts, params=params), cast_to)
            return AsyncPage(
                to_page(raw), params=params, strategy=strategy, fetch=fetch, response=raw
            )

        first = strategy.first(opts.params or {})
        return AsyncPageRequest(lambda: fetch(first))

    async def close(self) -> None:
        """Close the connection pool, if this client opened it (a ``with_options``
        copy shares its original's pool and leaves it open)."""
        if self._owns_http:
            await self._http.aclose()

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    @property
    def sleep(self) -> AsyncSleep:
        """How this client waits between attempts (the one given as ``sleep=``)."""
        return self._sleep

    async def __aenter__(self: Self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class AsyncAPIResource(_Resource):
    """A group of endpoints of an async client."""

    def __init__(self, client: AsyncAPIClient) -> None:
        self._client = client
