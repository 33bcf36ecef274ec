"""How errors answer: the one table from each kind of domain error to an HTTP
status, and the error body of the API the request went to.

A domain error keeps its own code (``DEVICE_EXISTS``); the table gives the
status of its kind, the nearest in its class hierarchy. Anything that is
not a domain error is a 500 with no detail, logged with its traceback.

The body's format is the API's: the device gateway's
``{"error": {"code", "message", "details"?}}`` by default; an API with
another format registers an :class:`ErrorFormat` for its path prefixes (the
compliance platform's ``{detail, status: "error", code}``), and every error
under those prefixes (a domain error, no route, a wrong method, a 500) is
rendered by it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import attrs
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from .._errors import (
    ClientGone,
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    TimedOut,
    TooLarge,
    Unauthenticated,
    Unavailable,
    Unprocessable,
    UnsupportedMediaType,
    UpstreamFailed,
)
from ._responses import JSONResponse

__all__ = ["STATUS", "ErrorFormat", "error_response", "exception_handlers", "status_of"]

log = logging.getLogger("gateway_server")

STATUS: dict[type, int] = {
    InvalidInput: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    TimedOut: 408,
    Conflict: 409,
    TooLarge: 413,
    UnsupportedMediaType: 415,
    Unprocessable: 422,
    RateLimited: 429,
    UpstreamFailed: 502,
    Unavailable: 503,
    ClientGone: 499,  # nginx's "client closed request": for the access log alone
}


def status_of(error: DomainError) -> int:
    for kind in type(error).__mro__:
        status = STATUS.get(kind)
        if status is not None:
            return status
    return 500


def gateway_body(error: DomainError) -> dict[str, Any]:
    """The device gateway's error body (the default format)."""
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details:
        body["details"] = error.details
    return {"error": body}


@attrs.frozen
class ErrorFormat:
    """An API's error body, for every path under one of its ``prefixes``."""

    prefixes: tuple[str, ...]
    render: Callable[[DomainError], dict[str, Any]]

    def covers(self, path: str) -> bool:
        return path.startswith(self.prefixes)


def error_response(
    error: DomainError, render: Callable[[DomainError], Any] = gateway_body
) -> JSONResponse:
    return JSONResponse(render(error), status_code=status_of(error), headers=error.headers)


_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


def exception_handlers(formats: Sequence[ErrorFormat] = ()) -> dict[Any, Any]:
    """The app's handlers: domain errors by the table, Starlette's by status,
    the rest 500; each body in the format of the API the path belongs to."""

    def render_for(request: Request) -> Callable[[DomainError], Any]:
        path = request.url.path
        for fmt in formats:
            if fmt.covers(path):
                return fmt.render
        return gateway_body

    async def domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        return error_response(exc, render_for(request))

    async def http_error(request: Request, exc: Exception) -> Response:
        """Starlette's own errors (no route, wrong method) in the API's format."""
        assert isinstance(exc, HTTPException)
        code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
        body = render_for(request)(DomainError(str(exc.detail), code=code))
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        body = render_for(request)(DomainError("internal error", code="INTERNAL_ERROR"))
        return JSONResponse(body, status_code=500)

    return {DomainError: domain_error, HTTPException: http_error, Exception: unexpected}
