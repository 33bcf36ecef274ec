"""The one error hierarchy every client of the suite raises.

::

    SDKError
    ├── ClientClosedError             (also RuntimeError) a call after close()
    ├── APIConnectionError
    │   └── APITimeoutError
    ├── APIStatusError                status_code, response, request_id, code,
    │   │                             message, details, rate_limit
    │   ├── BadRequestError           400
    │   ├── AuthenticationError       401
    │   ├── PermissionDeniedError     403
    │   ├── NotFoundError             404
    │   ├── ConflictError             409
    │   ├── UnprocessableEntityError  422
    │   ├── RateLimitError            429 (retry_after)
    │   └── InternalServerError       5xx
    ├── ResponseValidationError       a body that does not match its model
    ├── MultiStatusError              raise_for_failures() of a batch result
    └── InputValidationError          (also ValueError) bad arguments, before any request
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs
import httpx

from ._rate_limit import RateLimitInfo

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConflictError",
    "ErrorBody",
    "InputValidationError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseValidationError",
    "SDKError",
    "UnprocessableEntityError",
    "make_status_error",
    "parse_error_body",
    "request_id_of",
    "status_error_class",
]

DEFAULT_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-amzn-requestid", "x-correlation-id")
_DEFAULT_RAW = frozenset(n.encode("ascii") for n in DEFAULT_REQUEST_ID_HEADERS)


class SDKError(Exception):
    """Base of every error raised by the suite's clients."""


class ClientClosedError(SDKError, RuntimeError):
    """A call on a client after ``close()`` (or on a copy whose original was closed)."""


MAX_MESSAGE_CHARS = 500
"""How much of an error body ``str(error)`` shows; ``error.body`` keeps it all."""


def _cut(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... [{len(text) - limit:,} more characters in .body]"


class APIConnectionError(SDKError):
    """The request did not get an HTTP answer (DNS, refused, reset, TLS...)."""

    def __init__(self, message: str = "Connection error.", *, request: httpx.Request) -> None:
        super().__init__(message)
        self.message = message
        self.request = request


class APITimeoutError(APIConnectionError):
    """The request timed out (connect, read, write or pool) or the deadline ran out."""

    def __init__(self, message: str = "Request timed out.", *, request: httpx.Request) -> None:
        super().__init__(message, request=request)


@attrs.frozen
class ErrorBody:
    """An error answer reduced to what all our APIs have in common."""

    code: str | None = None
    message: str | None = None
    details: Any = None
    raw: Any = None
    """The decoded JSON body, or the body text when it was not JSON."""


def _as_str(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def parse_error_body(content: bytes, *, text: str | None = None) -> ErrorBody:
    """Understand the error formats of every API of the suite.

    - ``{"error": {"code", "message", "details"}}`` (gateway, EXASPERATION)
    - ``{"status": "error", "error": {...}, "message"?}`` (KubeNexus)
    - ``{"detail", "code"?, "status"?}`` (compliance platform, FastAPI-style,
      ``detail`` possibly a list of field errors)
    - ``{"code", "message"}`` and ``{"errors": [...]}`` (Nexthink)

    Anything else falls back to the raw text as the message.
    """
    if text is None:
        text = content.decode("utf-8", errors="replace")
    try:
        data = json.loads(content) if content else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        stripped = text.strip()
        return ErrorBody(message=_cut(stripped) or None, raw=data if data is not None else text)

    error = data.get("error")
    if isinstance(error, dict):
        return ErrorBody(
            code=_as_str(error.get("code")),
            message=_as_str(error.get("message")) or _as_str(data.get("message")),
            details=error.get("details"),
            raw=data,
        )
    if isinstance(error, str):
        # {"error": "invalid_client", "error_description": "..."} (OAuth2)
        return ErrorBody(
            code=error,
            message=_as_str(data.get("error_description")) or _as_str(data.get("message")) or error,
            details=None,
            raw=data,
        )
    if "detail" in data:
        detail = data["detail"]
        return ErrorBody(
            code=_as_str(data.get("code")),
            message=detail if isinstance(detail, str) else _as_str(data.get("message")),
            details=None if isinstance(detail, str) else detail,
            raw=data,
        )
    if isinstance(data.get("errors"), list):
        return ErrorBody(
            code=_as_str(data.get("code")),
            message=_as_str(data.get("message")),
            details=data["errors"],
            raw=data,
        )
    return ErrorBody(
        code=_as_str(data.get("code")),
        message=_as_str(data.get("message")),
        details=data.get("details"),
        raw=data,
    )


class APIStatusError(SDKError):
    """The server answered with a 4xx or 5xx status.

    The response, its headers and its parsed body are always reachable.
    """

    status_code: int
    response: httpx.Response
    request_id: str | None
    code: str | None
    message: str
    details: Any
    body: Any
    rate_limit: RateLimitInfo
    context: str | None
    """What the failed request was, when not the call itself (``"token request to ..."``)."""

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        body: ErrorBody,
        request_id: str | None,
        rate_limit: RateLimitInfo,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.response = response
        self.status_code = response.status_code
        self.request_id = request_id
        self.code = body.code
        self.details = body.details
        self.body = body.raw
        self.rate_limit = rate_limit
        self.context = None

    @property
    def request(self) -> httpx.Request:
        return self.response.request

    @property
    def headers(self) -> httpx.Headers:
        return self.response.headers

    def __str__(self) -> str:
        parts = [f"{self.status_code}"]
        if self.code:
            parts.append(f"[{self.code}]")
        if self.context:
            parts.append(f"{self.context} failed:")
        parts.append(_cut(self.message))
        if self.request_id:
            parts.append(f"(request id {self.request_id})")
        return " ".join(parts)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code}, code={self.code!r}, "
            f"message={_cut(self.message, 200)!r}, request_id={self.request_id!r}"
            + (f", context={self.context!r})" if self.context else ")")
        )


class BadRequestError(APIStatusError):
    """400"""


class AuthenticationError(APIStatusError):
    """401"""


class PermissionDeniedError(APIStatusError):
    """403"""


class NotFoundError(APIStatusError):
    """404"""


class ConflictError(APIStatusError):
    """409"""


class UnprocessableEntityError(APIStatusError):
    """422. ``field_errors`` maps each field the server named to its messages."""

    @property
    def field_errors(self) -> dict[str, list[str]]:
        return field_errors_of(self.details)


def _field_name(entry: Mapping[str, Any]) -> str:
    field = entry.get("field")
    if field is None and isinstance(entry.get("loc"), (list, tuple)):
        parts = [str(p) for p in entry["loc"] if p not in ("body", "query", "path")]
        field = ".".join(parts)
    return str(field) if field not in (None, "") else "_"


def field_errors_of(details: Any) -> dict[str, list[str]]:
    """Field errors from the shapes APIs use: ``{"fields": {name: msg}}``,
    ``{name: msg | [msg]}``, ``[{"field"|"loc", "message"|"msg"}]``."""
    out: dict[str, list[str]] = {}

    def add(name: str, message: Any) -> None:
        messages = message if isinstance(message, list) else [message]
        out.setdefault(name, []).extend(str(m) for m in messages)

    if isinstance(details, Mapping):
        inner = details.get("fields", details.get("errors", details))
        if isinstance(inner, list):
            details = inner
        elif isinstance(inner, Mapping):
            for name, message in inner.items():
                add(str(name), message)
            return out
    if isinstance(details, list):
        for entry in details:
            if isinstance(entry, Mapping):
                add(_field_name(entry), entry.get("message", entry.get("msg", "invalid")))
    return out


class RateLimitError(APIStatusError):
    """429. ``retry_after`` is the wait the server asked for, in seconds, if any."""

    @property
    def retry_after(self) -> float | None:
        info = self.rate_limit
        if info.retry_after is not None:
            return info.retry_after
        return info.reset_after

    def __str__(self) -> str:
        text = super().__str__()
        wait = self.retry_after
        return text if wait is None else f"{text}; retry after {wait:g}s"


class InternalServerError(APIStatusError):
    """5xx"""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    if status_code >= 500:
        return InternalServerError
    return _BY_STATUS.get(status_code, APIStatusError)


def request_id_of(
    headers: httpx.Headers, names: tuple[str, ...] = DEFAULT_REQUEST_ID_HEADERS
) -> str | None:
    wanted = (
        {n.encode("ascii") for n in names}
        if names is not DEFAULT_REQUEST_ID_HEADERS
        else _DEFAULT_RAW
    )
    for key, value in headers.raw:
        if key.lower() in wanted and value:
            return value.decode("latin-1")
    return None


def make_status_error(
    response: httpx.Response,
    *,
    now: float,
    request_id_headers: tuple[str, ...] = DEFAULT_REQUEST_ID_HEADERS,
    error_class: type[APIStatusError] | None = None,
    context: str | None = None,
) -> APIStatusError:
    """The typed error for a read 4xx/5xx response (``error_class`` overrides
    the class chosen by status, for an API with finer errors; ``context`` starts
    the message, e.g. ``"token request to https://.../token"``)."""
    body = parse_error_body(response.content)
    request_id = request_id_of(response.headers, request_id_headers)
    if request_id is None and isinstance(body.raw, dict):
        found = body.raw.get("request_id") or body.raw.get("requestId")
        request_id = str(found) if found else None
    message = body.message or response.reason_phrase or f"HTTP {response.status_code}"
    cls = error_class or status_error_class(response.status_code)
    error = cls(
        message,
        response=response,
        body=body,
        request_id=request_id,
        rate_limit=RateLimitInfo.from_headers(response.headers, now=now),
    )
    error.context = context
    return error


class ResponseValidationError(SDKError):
    """A 2xx body that does not match the model the call promises."""

    def __init__(self, message: str, *, response: httpx.Response, request_id: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.response = response
        self.request_id = request_id
        self.status_code = response.status_code


class InputValidationError(SDKError, ValueError):
    """An argument is wrong; raised before any request is sent.

    ``field`` names the offending argument (dotted for nested ones).
    """

    def __init__(self, field: str, message: str, *, value: Any = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.value = value
