"""The base of both clients: :class:`BaseClient` holds every decision that needs
no I/O: options, building requests, turning responses into models or typed
errors, reprs, logging. :class:`SyncAPIClient` (``_sync_client``) and
:class:`AsyncAPIClient` (``_async_client``) only send and sleep; the retry
verdict is :class:`RetryPolicy`'s, driven through tenacity (``_retry``).
"""

from __future__ import annotations

import copy
import functools
import platform
import random as _random
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Generic, Self, TypeVar

import attrs
import httpx
import pydantic

from ._clock import (
    SYSTEM_CLOCK,
    Clock,
)
from ._exceptions import (
    DEFAULT_REQUEST_ID_HEADERS,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ClientClosedError,
    ResponseValidationError,
    make_status_error,
    request_id_of,
)
from ._logging import get_logger
from ._rate_limiter import RateLimiter
from ._response import (
    APIResponse,
    RawResponseProxy,
    record,
)
from ._retry import CallState, RetryPolicy
from ._secrets import redact_url
from ._token_auth import TokenAuth
from ._types import NOT_GIVEN, NotGiven, RequestOptions
from ._version import __version__

__all__ = ["DEFAULT_MAX_RETRIES", "DEFAULT_TIMEOUT", "BaseClient"]

T = TypeVar("T")
HttpxClientT = TypeVar("HttpxClientT", httpx.Client, httpx.AsyncClient)

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
DEFAULT_MAX_RETRIES = 2


@attrs.frozen(kw_only=True)
class _ClientOptions:
    base_url: httpx.URL = attrs.field()
    base_url_str: str = attrs.field(init=False)
    timeout: httpx.Timeout
    retry: RetryPolicy
    default_headers: Mapping[str, str]

    @base_url_str.default
    def _base_url_str(self) -> str:
        text = str(self.base_url)
        return text if text.endswith("/") else text + "/"


def _as_timeout(value: httpx.Timeout | float | None) -> httpx.Timeout:
    return value if isinstance(value, httpx.Timeout) else _timeout_of(value)


@functools.lru_cache(maxsize=64)
def _timeout_of(seconds: float | None) -> httpx.Timeout:
    # A per-call timeout is usually one of a few numbers: build each Timeout once.
    return httpx.Timeout(seconds)


def _cap_timeout(timeout: httpx.Timeout, remaining: float) -> httpx.Timeout:
    def cap(v: float | None) -> float:
        return remaining if v is None else min(v, remaining)

    return httpx.Timeout(
        connect=cap(timeout.connect),
        read=cap(timeout.read),
        write=cap(timeout.write),
        pool=cap(timeout.pool),
    )


@functools.lru_cache(maxsize=256)
def _adapter(tp: Any) -> pydantic.TypeAdapter[Any]:
    return pydantic.TypeAdapter(tp)


class BaseClient(Generic[HttpxClientT]):
    """Options and every I/O-free decision, shared by both client flavours.

    Subclasses set ``package_name`` / ``package_version`` (for the
    User-Agent and the logger) and may change the header names below.
    """

    package_name: ClassVar[str] = "sdk_core"
    package_version: ClassVar[str] = __version__
    retry_count_header: ClassVar[str] = "X-Retry-Count"
    idempotency_header: ClassVar[str] = "Idempotency-Key"
    request_id_headers: ClassVar[tuple[str, ...]] = DEFAULT_REQUEST_ID_HEADERS

    _http: HttpxClientT
    _owns_http: bool
    _preset_for: Mapping[str, str] | None = None
    _options: _ClientOptions
    _auth: httpx.Auth | None
    _rate_limiter: RateLimiter | None

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
        auth: httpx.Auth | None = None,
        clock: Clock | None = None,
        rand: Callable[[], float] | None = None,
    ) -> None:
        policy = retry_policy or RetryPolicy()
        policy = policy.replace(
            max_retries=max_retries, deadline=deadline, max_server_wait=max_retry_wait
        )
        self._options = _ClientOptions(
            base_url=self._normalize_base_url(base_url),
            timeout=_as_timeout(timeout),
            retry=policy,
            default_headers=dict(default_headers or {}),
        )
        self._auth = auth
        self._clock: Clock = clock or SYSTEM_CLOCK
        self._rand: Callable[[], float] = rand or _random.random
        self._log = get_logger(self.package_name)

    # -- options ---------------------------------------------------------------
    @staticmethod
    def _normalize_base_url(url: str | httpx.URL) -> httpx.URL:
        parsed = httpx.URL(url)
        if parsed.query or parsed.fragment:
            raise ValueError(f"base_url must not carry a query or fragment: {url}")
        text = str(parsed)
        return parsed if text.endswith("/") else httpx.URL(text + "/")

    @property
    def base_url(self) -> httpx.URL:
        return self._options.base_url

    @property
    def timeout(self) -> httpx.Timeout:
        return self._options.timeout

    @property
    def max_retries(self) -> int:
        return self._options.retry.max_retries

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._options.retry

    @property
    def auth(self) -> httpx.Auth | None:
        return self._auth

    @property
    def clock(self) -> Clock:
        """The clock every deadline, backoff and token expiry of this client reads
        (the one given as ``clock=``): code built on a client (a worker loop, a
        reconnecting socket) waits on the same time as the client."""
        return self._clock

    @property
    def rand(self) -> Callable[[], float]:
        """The random source of this client's jitter (the one given as ``rand=``)."""
        return self._rand

    @property
    def rate_limiter(self) -> RateLimiter | None:
        """The client-side limiter every attempt passes through, if any."""
        return self._rate_limiter

    @property
    def auth_kind(self) -> str:
        """How this client authenticates, without the secret: ``"TokenAuth(ClientCredentials)"``,
        ``"StaticAuth(X-API-Key)"``, ``"none"``."""
        auth = self._auth
        if auth is None:
            return "none"
        if isinstance(auth, TokenAuth):
            return f"TokenAuth({type(auth.provider).__name__})"
        header = getattr(auth, "header", None)
        return f"{type(auth).__name__}({header})" if header else type(auth).__name__

    def __repr__(self) -> str:
        timeout = self._options.timeout
        same = {timeout.connect, timeout.read, timeout.write, timeout.pool}
        shown = timeout.read if len(same) == 1 else timeout
        closed = ", closed" if self._http.is_closed else ""
        return (
            f"{type(self).__name__}(base_url={str(self._options.base_url)!r}, "
            f"auth={self.auth_kind}, timeout={shown!r}, "
            f"max_retries={self._options.retry.max_retries}{closed})"
        )

    @functools.cached_property
    def user_agent(self) -> str:
        return (
            f"{self.package_name}/{self.package_version} "
            f"(sdk_core/{__version__}; python/{platform.python_version()}; "
            f"httpx/{httpx.__version__})"
        )

    def with_options(
        self: Self,
        *,
        base_url: str | httpx.URL | NotGiven = NOT_GIVEN,
        timeout: httpx.Timeout | float | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        deadline: float | NotGiven | None = NOT_GIVEN,
        max_retry_wait: float | NotGiven = NOT_GIVEN,
        default_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
    ) -> Self:
        """A cheap copy with some options changed; it shares the connection pool
        and the credentials (closing the copy leaves the pool open)."""
        retry = self._options.retry
        if not isinstance(max_retries, NotGiven):
            retry = retry.replace(max_retries=max_retries)
        if not isinstance(deadline, NotGiven):
            retry = retry.replace(deadline=deadline)
        if not isinstance(max_retry_wait, NotGiven):
            retry = retry.replace(max_server_wait=max_retry_wait)
        options = attrs.evolve(
            self._options,
            retry=retry,
            base_url=(
                self._options.base_url
                if isinstance(base_url, NotGiven)
                else self._normalize_base_url(base_url)
            ),
            timeout=self._options.timeout
            if isinstance(timeout, NotGiven)
            else _as_timeout(timeout),
            default_headers=(
                self._options.default_headers
                if isinstance(default_headers, NotGiven)
                else {**self._options.default_headers, **default_headers}
            ),
        )
        clone = copy.copy(self)
        for name, value in list(vars(clone).items()):
            if isinstance(value, _Resource):  # resources bound to the original client
                del vars(clone)[name]
        clone._options = options
        clone._owns_http = False
        return clone

    @property
    def with_raw_response(self) -> Any:
        """Every method of the client and its resources, answering an
        :class:`APIResponse` with status, headers, request id, rate limit,
        elapsed time and retries taken (``.parse()`` gives the usual value)."""
        return RawResponseProxy(self)

    # -- building requests ---------------------------------------------------
    def _url(self, url: str) -> str:
        if url.startswith(("http://", "https://")):
            return url
        return self._options.base_url_str + url.lstrip("/")

    def _client_headers(self) -> dict[str, str]:
        """What every request of this client sends, before its own headers."""
        return {
            "Accept": "application/json",
            "User-Agent": self.user_agent,
            **self._options.default_headers,
        }

    def _preset(self, http: HttpxClientT) -> HttpxClientT:
        """Install :meth:`_client_headers` (and a first attempt's retry count) on a
        pool this client opened, so that a plain first attempt merges no headers
        of its own, measurably cheaper; copies with other default headers send theirs."""
        http.headers.update({**self._client_headers(), self.retry_count_header: "0"})
        self._preset_for = self._options.default_headers
        return http

    def _headers(self, opts: RequestOptions, retries_taken: int) -> dict[str, str] | None:
        if self._options.default_headers is self._preset_for:
            if not opts.headers and not retries_taken and opts.idempotency_key is None:
                return None  # everything this attempt sends is on the pool already
            headers = dict(opts.headers) if opts.headers else {}
            if retries_taken:
                headers[self.retry_count_header] = str(retries_taken)
        else:
            headers = {**self._client_headers(), **(opts.headers or {})}
            headers[self.retry_count_header] = str(retries_taken)
        if opts.idempotency_key is not None:
            headers[self.idempotency_header] = opts.idempotency_key
        return headers

    def _timeout_for(self, opts: RequestOptions, run: CallState) -> httpx.Timeout:
        timeout = (
            self._options.timeout
            if isinstance(opts.timeout, NotGiven)
            else _as_timeout(opts.timeout)
        )
        deadline = self._options.retry.deadline
        if deadline is None:
            return timeout
        remaining = deadline - (self._clock.monotonic() - run.start)
        if remaining <= 0:
            raise APITimeoutError(
                f"deadline of {deadline:g}s passed before attempt {run.retries + 1}",
                request=run.request or httpx.Request(opts.method, self._url(opts.url)),
            )
        return _cap_timeout(timeout, remaining)

    def _build_request(self, opts: RequestOptions, run: CallState) -> httpx.Request:
        request = self._http.build_request(
            opts.method,
            self._url(opts.url),
            params=opts.params,
            json=opts.json,
            content=opts.content,
            data=opts.data,
            files=opts.files,
            headers=self._headers(opts, run.retries),
            timeout=self._timeout_for(opts, run),
        )
        run.request = request
        return request

    def _new_run(self, opts: RequestOptions) -> CallState:
        idempotent = self._options.retry.is_idempotent(
            opts.method, marked=opts.idempotent, has_key=opts.idempotency_key is not None
        )
        return CallState(self._clock.monotonic(), idempotent)

    def _check_open(self, opts: RequestOptions) -> None:
        if self._http.is_closed:
            raise ClientClosedError(
                f"{type(self).__name__} is closed: {opts.method} {opts.url} was not sent "
                "(make a new client, or call before close())"
            )

    def _auth_for(self, opts: RequestOptions) -> httpx.Auth | None:
        return self._auth if opts.authenticated else None

    @staticmethod
    def _wrap_transport_error(exc: httpx.TransportError, request: httpx.Request) -> Exception:
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(f"request timed out: {type(exc).__name__}", request=request)
        return APIConnectionError(f"connection error: {exc or type(exc).__name__}", request=request)

    # -- responses -------------------------------------------------------------
    def _log_attempt(
        self, request: httpx.Request, response: httpx.Response, started: float
    ) -> None:
        if self._log.isEnabledFor(10):
            self._log.debug(
                "%s %s -> %d in %.1f ms (request id %s, retry %s)",
                request.method,
                redact_url(request.url),
                response.status_code,
                (self._clock.monotonic() - started) * 1000.0,
                request_id_of(response.headers, self.request_id_headers),
                request.headers.get(self.retry_count_header, "0"),
            )

    def _error_class(self, response: httpx.Response) -> type[APIStatusError] | None:
        """A finer error class for this response; ``None`` picks by status.
        Override in an API's client (e.g. a 403 naming a missing feature)."""
        return None

    def _status_error(self, response: httpx.Response) -> APIStatusError:
        return make_status_error(
            response,
            now=self._clock.time(),
            request_id_headers=self.request_id_headers,
            error_class=self._error_class(response),
        )

    def _parse(self, response: httpx.Response, cast_to: Any) -> Any:
        if cast_to is httpx.Response:
            return response
        if cast_to is None or cast_to is type(None):
            return None
        if cast_to is bytes:
            return response.content
        if cast_to is str:
            return response.text
        try:
            if isinstance(cast_to, type) and issubclass(cast_to, pydantic.BaseModel):
                return cast_to.model_validate_json(response.content)
            return _adapter(cast_to).validate_json(response.content)
        except pydantic.ValidationError as exc:
            raise ResponseValidationError(
                f"{response.request.method} {response.request.url.path} answered a body "
                f"that does not match {getattr(cast_to, '__name__', cast_to)}: {exc}",
                response=response,
                request_id=request_id_of(response.headers, self.request_id_headers),
            ) from exc

    def _process(
        self, response: httpx.Response, cast_to: Any, run: CallState, opts: RequestOptions
    ) -> APIResponse[Any]:
        if response.is_error and response.status_code not in opts.ok_statuses:
            raise self._status_error(response)
        parsed = self._parse(response, cast_to)
        result = APIResponse(
            http_response=response,
            parsed=parsed,
            retries_taken=run.retries,
            elapsed=self._clock.monotonic() - run.start,
            received_at=self._clock.time(),
            request_id_headers=self.request_id_headers,
        )
        record(result)
        return result

    def _stream_info(
        self, response: httpx.Response, cast_to: Any, run: CallState
    ) -> dict[str, Any]:
        """What a streamed response carries besides the open httpx response."""
        return {
            "parser": functools.partial(self._parse, cast_to=cast_to),
            "retries_taken": run.retries,
            "received_at": self._clock.time(),
            "request_id_headers": self.request_id_headers,
        }

    def _streamed(self, opts: RequestOptions) -> RequestOptions:
        return opts if opts.stream else attrs.evolve(opts, stream=True)


class _Resource:
    """Marks a resource object bound to one client (dropped by ``with_options``)."""
