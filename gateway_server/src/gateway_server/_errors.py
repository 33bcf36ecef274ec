"""The documented error format: ``{"error": {"code", "message", "details"?}}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._json import JSONResponse

__all__ = ["APIError", "error_response"]


class APIError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = dict(details) if details else None
        self.headers = dict(headers) if headers else None


def error_response(error: APIError) -> JSONResponse:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details:
        body["details"] = error.details
    return JSONResponse({"error": body}, status_code=error.status, headers=error.headers)


def not_found(what: str) -> APIError:
    return APIError(404, "NOT_FOUND", f"{what} not found")


def forbidden(message: str) -> APIError:
    return APIError(403, "FORBIDDEN", message)
