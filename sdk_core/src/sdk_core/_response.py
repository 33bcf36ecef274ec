"""Raw access to every call: status, headers, request id, rate limit, timing, retries."""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Generic, ParamSpec, TypeVar

import attrs
import httpx

from ._exceptions import DEFAULT_REQUEST_ID_HEADERS, request_id_of
from ._rate_limit import RateLimitInfo

__all__ = [
    "APIResponse",
    "RawResponseProxy",
    "async_to_raw_response_wrapper",
    "to_raw_response_wrapper",
]

T = TypeVar("T")
P = ParamSpec("P")


@attrs.frozen
class APIResponse(Generic[T]):
    """One call's HTTP response beside the value the call returned."""

    http_response: httpx.Response
    parsed: T
    retries_taken: int
    elapsed: float
    """Seconds for the whole call, every attempt and wait included."""
    received_at: float
    """Unix time the response arrived (reset headers are relative to it)."""
    request_id_headers: tuple[str, ...] = DEFAULT_REQUEST_ID_HEADERS

    @functools.cached_property
    def request_id(self) -> str | None:
        return request_id_of(self.http_response.headers, self.request_id_headers)

    @functools.cached_property
    def rate_limit(self) -> RateLimitInfo:
        return RateLimitInfo.from_headers(self.http_response.headers, now=self.received_at)

    def parse(self) -> T:
        return self.parsed

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.http_response.headers

    @property
    def http_request(self) -> httpx.Request:
        return self.http_response.request

    @property
    def url(self) -> httpx.URL:
        return self.http_response.request.url

    @property
    def content(self) -> bytes:
        return self.http_response.content

    @property
    def text(self) -> str:
        return self.http_response.text


_sink: contextvars.ContextVar[list[APIResponse[Any]] | None] = contextvars.ContextVar(
    "sdk_core_raw_sink", default=None
)


def record(response: APIResponse[Any]) -> None:
    """Called by the clients for every call; kept only inside a raw wrapper."""
    sink = _sink.get()
    if sink is not None:
        sink.append(response)


def _finish(sink: list[APIResponse[Any]], value: T) -> APIResponse[T]:
    if not sink:
        raise RuntimeError("the wrapped call made no request")
    last = sink[-1]
    return APIResponse(
        http_response=last.http_response,
        parsed=value,
        retries_taken=last.retries_taken,
        elapsed=last.elapsed,
        received_at=last.received_at,
        request_id_headers=last.request_id_headers,
    )


def to_raw_response_wrapper(func: Callable[P, T]) -> Callable[P, APIResponse[T]]:
    """``to_raw_response_wrapper(client.nql.execute)(...)`` returns an
    :class:`APIResponse` whose ``parse()`` is what the call returns."""

    @functools.wraps(func)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> APIResponse[T]:
        sink: list[APIResponse[Any]] = []
        token = _sink.set(sink)
        try:
            value = func(*args, **kwargs)
        finally:
            _sink.reset(token)
        return _finish(sink, value)

    return wrapped


def async_to_raw_response_wrapper(
    func: Callable[P, Awaitable[T]],
) -> Callable[P, Awaitable[APIResponse[T]]]:
    @functools.wraps(func)
    async def wrapped(*args: P.args, **kwargs: P.kwargs) -> APIResponse[T]:
        sink: list[APIResponse[Any]] = []
        token = _sink.set(sink)
        try:
            value = await func(*args, **kwargs)
        finally:
            _sink.reset(token)
        return _finish(sink, value)

    return wrapped


class RawResponseProxy:
    """``client.with_raw_response``: the same attributes, every method answering
    an :class:`APIResponse` (awaitable ones for async clients)."""

    def __init__(self, target: Any) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if name.startswith("_"):
            return attr
        if callable(attr):
            if inspect.iscoroutinefunction(attr):
                return async_to_raw_response_wrapper(attr)
            return to_raw_response_wrapper(attr)
        if isinstance(attr, (str, bytes, int, float, bool, type(None))):
            return attr
        return RawResponseProxy(attr)

    def __repr__(self) -> str:
        return f"RawResponseProxy({self._target!r})"
