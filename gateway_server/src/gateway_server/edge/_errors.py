"""How errors answer: the one table from each kind of domain error to an HTTP
status, and the documented error body ``{"error": {"code", "message", "details"?}}``.

A domain error keeps its own code (``DEVICE_EXISTS``); the table gives the
status of its kind, the nearest in its class hierarchy. Anything that is
not a domain error is a 500 with no detail, logged with its traceback.
"""

from __future__ import annotations

import logging
from typing import Any

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
)
from ._responses import JSONResponse

__all__ = ["STATUS", "error_response", "exception_handlers", "status_of"]

log = logging.getLogger("gateway_server")

STATUS: dict[type, int] = {
    InvalidInput: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    TimedOut: 408,
    Conflict: 409,
    TooLarge: 413,
    RateLimited: 429,
    Unavailable: 503,
    ClientGone: 499,  # nginx's "client closed request": for the access log alone
}


def status_of(error: DomainError) -> int:
    for kind in type(error).__mro__:
        status = STATUS.get(kind)
        if status is not None:
            return status
    return 500


def error_response(error: DomainError) -> JSONResponse:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details:
        body["details"] = error.details
    return JSONResponse({"error": body}, status_code=status_of(error), headers=error.headers)


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return error_response(exc)


_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (no route, wrong method) in the documented format."""
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
    body = {"error": {"code": code, "message": str(exc.detail)}}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    body = {"error": {"code": "INTERNAL_ERROR", "message": "internal error"}}
    return JSONResponse(body, status_code=500)


def exception_handlers() -> dict[Any, Any]:
    """The app's handlers: domain errors by the table, Starlette's by status, the rest 500."""
    return {DomainError: _domain_error, HTTPException: _http_error, Exception: _unexpected}
