"""The sync client: sends with ``httpx.Client`` and sleeps with ``sleep``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar, Unpack, overload

import attrs
import httpx

from ._base_client import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, BaseClient, _Resource
from ._clock import Clock, Sleep, default_sleep
from ._pages import SyncPage
from ._pagination import Page, PaginationStrategy
from ._rate_limiter import RateLimiter
from ._response import APIResponse, StreamedAPIResponse, StreamStarted, streaming_requested
from ._retry import CallState, RetryPolicy, send_with_retries
from ._token_auth import TokenAuth
from ._types import CallOptions, RequestOptions, apply_overrides

__all__ = ["SyncAPIClient", "SyncAPIResource"]

T = TypeVar("T")


class _OwnedClient(httpx.Client):
    """The pool a client opened itself: closed when garbage-collected, so a
    client that is never closed leaves no socket behind (no ResourceWarning).
    ``with_options`` copies share this object, so it outlives every one of them."""

    def __del__(self) -> None:
        try:
            if not self.is_closed:
                self.close()
        except Exception:  # noqa: S110 - nothing can be done about it in a finalizer
            pass


class SyncAPIClient(BaseClient[httpx.Client]):
    """The sync client: sends with ``httpx.Client`` and sleeps with ``sleep``."""

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
        http_client: httpx.Client | None = None,
        auth: httpx.Auth | None = None,
        rate_limiter: RateLimiter | None = None,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
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
        self._http = http_client if http_client is not None else self._preset(_OwnedClient())
        self._sleep: Sleep = sleep or default_sleep
        self._rate_limiter = rate_limiter
        if isinstance(auth, TokenAuth):
            auth.bind(
                self._http, retry_policy=self._options.retry, sleep=self._sleep, rand=self._rand
            )
        elif auth is not None and hasattr(auth, "bind"):
            auth.bind(self._http)

    def _send(self, opts: RequestOptions) -> tuple[httpx.Response, CallState]:
        self._check_open(opts)
        run = self._new_run(opts)

        def attempt() -> httpx.Response:
            request = self._build_request(opts, run)
            limiter = self._rate_limiter
            if limiter is not None:
                limiter.acquire()
            started = self._clock.monotonic()
            try:
                response = self._http.send(request, stream=opts.stream, auth=self._auth_for(opts))
            except httpx.TransportError as exc:
                raise self._wrap_transport_error(exc, request) from exc
            finally:
                if limiter is not None:
                    limiter.release()
            if limiter is not None:
                limiter.observe(response.headers, response.status_code)
            if opts.stream and response.is_error:
                response.read()
            self._log_attempt(request, response, started)
            return response

        response = send_with_retries(
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
    def request(
        self, method: str, url: str, *, cast_to: type[T], **options: Unpack[CallOptions]
    ) -> T: ...

    @overload
    def request(
        self, method: str, url: str, *, cast_to: Any, **options: Unpack[CallOptions]
    ) -> Any: ...

    def request(
        self, method: str, url: str, *, cast_to: Any, **options: Unpack[CallOptions]
    ) -> Any:
        """Send one call (with retries) and return its body as ``cast_to``
        (typed as ``cast_to`` when it is a class: ``cast_to=Cluster`` gives a
        ``Cluster``)."""
        opts = RequestOptions(method=method, url=url, **options)
        return self.request_raw(opts, cast_to).parsed

    def request_raw(
        self, opts: RequestOptions, cast_to: Any, overrides: Mapping[str, Any] | None = None
    ) -> APIResponse[Any]:
        """Send ``opts`` with the per-call ``overrides`` of a resource method applied."""
        if overrides:
            opts = apply_overrides(opts, overrides)
        if streaming_requested():
            self._start_stream(opts, cast_to)
        response, run = self._send(opts)
        try:
            return self._process(response, cast_to, run, opts)
        except BaseException:
            response.close()
            raise

    def _start_stream(self, opts: RequestOptions, cast_to: Any) -> None:
        response, run = self._send(self._streamed(opts))
        if response.is_error and response.status_code not in opts.ok_statuses:
            response.close()
            raise self._status_error(response)
        raise StreamStarted(
            StreamedAPIResponse(response, **self._stream_info(response, cast_to, run))
        )

    def request_page(
        self,
        opts: RequestOptions,
        cast_to: Any,
        *,
        to_page: Callable[[APIResponse[Any]], Page[T]],
        strategy: PaginationStrategy,
        overrides: Mapping[str, Any] | None = None,
    ) -> SyncPage[T]:
        """The first page of a list, fetched now; the page fetches the next ones."""
        if overrides:
            opts = apply_overrides(opts, overrides)

        def fetch(params: dict[str, Any]) -> SyncPage[T]:
            raw = self.request_raw(attrs.evolve(opts, params=params), cast_to)
            return SyncPage(
                to_page(raw), params=params, strategy=strategy, fetch=fetch, response=raw
            )

        return fetch(strategy.first(opts.params or {}))

    def close(self) -> None:
        """Close the connection pool, if this client opened it (a ``with_options``
        copy shares its original's pool and leaves it open)."""
        if self._owns_http:
            self._http.close()

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    @property
    def sleep(self) -> Sleep:
        """How this client waits between attempts (the one given as ``sleep=``)."""
        return self._sleep

    def __enter__(self: Self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class SyncAPIResource(_Resource):
    """A group of endpoints of a sync client (``client.clusters``...)."""

    def __init__(self, client: SyncAPIClient) -> None:
        self._client = client
