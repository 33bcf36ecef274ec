"""The EXASPERATION clients: ``ExasperationClient`` and its async twin.

Configured by arguments, else ``EXASPERATION_API_KEY`` / ``EXASPERATION_BASE_URL``.
Their methods live in :mod:`._resources`; everything but sending (building and
validating each request, the error class, the request id) in :mod:`._requests`.
"""

from __future__ import annotations

import os
from typing import Any, Unpack

import httpx

from sdk_core import (
    NOT_GIVEN,
    APIStatusError,
    AsyncAPIClient,
    AsyncClientOptions,
    AsyncSleep,
    Clock,
    InputValidationError,
    NotGiven,
    RateLimiter,
    Sleep,
    StaticAuth,
    SyncAPIClient,
    SyncClientOptions,
)

from . import _requests as req
from ._requests import FeatureNotEnabledError
from ._resources import (
    AsyncSearchAPI,
    AsyncSearchAPIWithRawResponse,
    SearchAPI,
    SearchAPIWithRawResponse,
)
from ._version import __version__

__all__ = [
    "DEFAULT_BASE_URL",
    "AsyncExasperationClient",
    "ExasperationClient",
    "FeatureNotEnabledError",
]

DEFAULT_BASE_URL = "https://api.exasperation.example.com/v1"
REQUESTS_PER_MINUTE = 60
MAX_IN_FLIGHT = 5


def _config(api_key: str | None, base_url: str | None) -> tuple[str, str]:
    key = api_key if api_key is not None else os.environ.get("EXASPERATION_API_KEY")
    if not key:
        raise InputValidationError("api_key", "missing: pass api_key= or set EXASPERATION_API_KEY")
    url = base_url or os.environ.get("EXASPERATION_BASE_URL") or DEFAULT_BASE_URL
    return key, url


def _limiter(
    rate_limiter: RateLimiter | NotGiven | None,
    clock: Clock | None,
    sleep: Sleep | None = None,
    async_sleep: AsyncSleep | None = None,
) -> RateLimiter | None:
    if not isinstance(rate_limiter, NotGiven):
        return rate_limiter
    kwargs: dict[str, Any] = {"sleep": sleep, "async_sleep": async_sleep}
    if clock is not None:
        kwargs["clock"] = clock
    return RateLimiter(REQUESTS_PER_MINUTE, 60.0, MAX_IN_FLIGHT, **kwargs)


class ExasperationClient(SearchAPI, SyncAPIClient):
    """EXASPERATION search, sync.

    ``rate_limiter`` defaults to 60 requests a minute and 5 in flight, shared by
    every thread using this client; pass your own :class:`RateLimiter` to
    change it, or ``None`` to turn it off.
    """

    package_name = "exasperation_sdk"
    package_version = __version__

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        rate_limiter: RateLimiter | NotGiven | None = NOT_GIVEN,
        **options: Unpack[SyncClientOptions],
    ) -> None:
        key, url = _config(api_key, base_url)
        options.setdefault("max_retries", 3)
        limiter = _limiter(rate_limiter, options.get("clock"), sleep=options.get("sleep"))
        super().__init__(base_url=url, auth=StaticAuth(key), rate_limiter=limiter, **options)

    def _error_class(self, response: httpx.Response) -> type[APIStatusError] | None:
        return req.error_class(response)

    @property
    def with_raw_response(self) -> SearchAPIWithRawResponse:
        """Each method answering a typed ``APIResponse`` (status, headers, request id)."""
        return SearchAPIWithRawResponse(self)


class AsyncExasperationClient(AsyncSearchAPI, AsyncAPIClient):
    """EXASPERATION search, async: the same methods as :class:`ExasperationClient`.

    The default limiter (60 a minute, 5 in flight) is shared by every task
    using this client.
    """

    package_name = "exasperation_sdk"
    package_version = __version__

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        rate_limiter: RateLimiter | NotGiven | None = NOT_GIVEN,
        **options: Unpack[AsyncClientOptions],
    ) -> None:
        key, url = _config(api_key, base_url)
        options.setdefault("max_retries", 3)
        limiter = _limiter(rate_limiter, options.get("clock"), async_sleep=options.get("sleep"))
        super().__init__(base_url=url, auth=StaticAuth(key), rate_limiter=limiter, **options)

    def _error_class(self, response: httpx.Response) -> type[APIStatusError] | None:
        return req.error_class(response)

    @property
    def with_raw_response(self) -> AsyncSearchAPIWithRawResponse:
        """Each method answering a typed ``APIResponse`` (status, headers, request id)."""
        return AsyncSearchAPIWithRawResponse(self)
