"""Raw access to every call: status, headers, request id, rate limit, timing, retries.

- ``to_raw_response_wrapper(method)`` (what each resource's ``with_raw_response``
  is made of) answers an :class:`APIResponse` whose ``parse()`` is what the
  method returns, typed: ``APIResponse[Cluster]`` for a method returning a
  ``Cluster``.
- ``to_streamed_response_wrapper(method)`` (``with_streaming_response``) answers
  a context manager over a :class:`StreamedAPIResponse` whose body has not been
  read: iterate its bytes, text or lines, or ``parse()`` it.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import Any, Generic, ParamSpec, TypeVar

import attrs
import httpx

from ._exceptions import DEFAULT_REQUEST_ID_HEADERS, request_id_of
from ._rate_limit import RateLimitInfo

__all__ = [
    "APIResponse",
    "AsyncResponseContextManager",
    "AsyncStreamedAPIResponse",
    "RawResponseProxy",
    "ResponseContextManager",
    "StreamedAPIResponse",
    "async_to_raw_response_wrapper",
    "async_to_streamed_response_wrapper",
    "to_raw_response_wrapper",
    "to_streamed_response_wrapper",
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
    if last.parsed is value:  # the method returned the body as parsed: nothing to rebuild
        return last
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


# ------------------------------------------------------------------ streaming
_streaming: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "sdk_core_streaming", default=False
)


def streaming_requested() -> bool:
    """Whether the call under way runs inside a streaming wrapper (read by the clients)."""
    return _streaming.get()


class _StreamInfo:
    __slots__ = ("http_response", "parser", "received_at", "request_id_headers", "retries_taken")

    def __init__(
        self,
        http_response: httpx.Response,
        parser: Callable[[httpx.Response], Any],
        *,
        retries_taken: int = 0,
        received_at: float = 0.0,
        request_id_headers: tuple[str, ...] = DEFAULT_REQUEST_ID_HEADERS,
    ) -> None:
        self.http_response = http_response
        self.parser = parser
        self.retries_taken = retries_taken
        self.received_at = received_at
        self.request_id_headers = request_id_headers

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.http_response.headers

    @property
    def url(self) -> httpx.URL:
        return self.http_response.request.url

    @property
    def request_id(self) -> str | None:
        return request_id_of(self.http_response.headers, self.request_id_headers)

    @property
    def rate_limit(self) -> RateLimitInfo:
        return RateLimitInfo.from_headers(self.http_response.headers, now=self.received_at)


class StreamedAPIResponse(_StreamInfo, Generic[T]):
    """A response whose body is read only as you iterate it (sync)."""

    def read(self) -> bytes:
        return self.http_response.read()

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        return self.http_response.iter_bytes(chunk_size)

    def iter_text(self, chunk_size: int | None = None) -> Iterator[str]:
        return self.http_response.iter_text(chunk_size)

    def iter_lines(self) -> Iterator[str]:
        return self.http_response.iter_lines()

    def parse(self) -> T:
        """Read the whole body and parse it as the call would have."""
        self.http_response.read()
        return self.parser(self.http_response)  # type: ignore[no-any-return]

    def close(self) -> None:
        self.http_response.close()


class AsyncStreamedAPIResponse(_StreamInfo, Generic[T]):
    """A response whose body is read only as you iterate it (async)."""

    async def read(self) -> bytes:
        return await self.http_response.aread()

    def iter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        return self.http_response.aiter_bytes(chunk_size)

    def iter_text(self, chunk_size: int | None = None) -> AsyncIterator[str]:
        return self.http_response.aiter_text(chunk_size)

    def iter_lines(self) -> AsyncIterator[str]:
        return self.http_response.aiter_lines()

    async def parse(self) -> T:
        await self.http_response.aread()
        return self.parser(self.http_response)  # type: ignore[no-any-return]

    async def close(self) -> None:
        await self.http_response.aclose()


class StreamStarted(BaseException):
    """Carries an open response out of a call made inside a streaming wrapper.

    A ``BaseException`` so that no ``except Exception`` of the method in between
    mistakes it for a failure; only the wrapper catches it.
    """

    def __init__(self, response: _StreamInfo) -> None:
        super().__init__("streamed response started")
        self.response = response


class ResponseContextManager(Generic[T]):
    """``with client.nql.with_streaming_response.execute_csv(...) as response:``"""

    def __init__(self, call: Callable[[], object]) -> None:
        self._call = call
        self._response: StreamedAPIResponse[T] | None = None

    def __enter__(self) -> StreamedAPIResponse[T]:
        token = _streaming.set(True)
        try:
            self._call()
        except StreamStarted as started:
            self._response = started.response  # type: ignore[assignment]
            return self._response  # type: ignore[return-value]
        finally:
            _streaming.reset(token)
        raise RuntimeError("the wrapped call made no request to stream")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._response is not None:
            self._response.close()


class AsyncResponseContextManager(Generic[T]):
    """``async with client.nql.with_streaming_response.execute_csv(...) as response:``"""

    def __init__(self, call: Callable[[], Awaitable[object]]) -> None:
        self._call = call
        self._response: AsyncStreamedAPIResponse[T] | None = None

    async def __aenter__(self) -> AsyncStreamedAPIResponse[T]:
        token = _streaming.set(True)
        try:
            await self._call()
        except StreamStarted as started:
            self._response = started.response  # type: ignore[assignment]
            return self._response  # type: ignore[return-value]
        finally:
            _streaming.reset(token)
        raise RuntimeError("the wrapped call made no request to stream")

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._response is not None:
            await self._response.close()


def to_streamed_response_wrapper(func: Callable[P, T]) -> Callable[P, ResponseContextManager[T]]:
    """``to_streamed_response_wrapper(client.nql.execute_csv)(...)`` is a context
    manager over the call's unread response."""

    @functools.wraps(func)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> ResponseContextManager[T]:
        return ResponseContextManager(functools.partial(func, *args, **kwargs))

    return wrapped


def async_to_streamed_response_wrapper(
    func: Callable[P, Awaitable[T]],
) -> Callable[P, AsyncResponseContextManager[T]]:
    @functools.wraps(func)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> AsyncResponseContextManager[T]:
        return AsyncResponseContextManager(functools.partial(func, *args, **kwargs))

    return wrapped
