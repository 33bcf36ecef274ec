"""Domain errors: what went wrong, in the words of the domain, never an HTTP status.

Stores, rules and security raise these; the HTTP edge alone decides how an
error answers (``edge/_errors.py`` holds the one table from each kind below
to a status). An error names its ``code`` (the API's machine-readable code)
and a message; an API's own errors subclass a kind and fix the code::

    class DeviceExists(Conflict):
        code = "DEVICE_EXISTS"
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "ClientGone",
    "Conflict",
    "DomainError",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "RateLimited",
    "TimedOut",
    "TooLarge",
    "Unauthenticated",
    "Unavailable",
    "Unprocessable",
    "UnsupportedMediaType",
    "UpstreamFailed",
]


class DomainError(Exception):
    """The base of every error the server answers on purpose."""

    code: str = "ERROR"

    def __init__(
        self,
        message: str,
        details: Mapping[str, Any] | None = None,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = dict(details) if details else None
        if code is not None:
            self.code = code
        self.headers = dict(headers) if headers else None
        self.fields: list[dict[str, Any]] = []
        """Every failing field (``{loc, msg, type}``), for the formats that list them."""


class InvalidInput(DomainError):
    """The request is malformed or breaks a documented constraint."""

    code = "VALIDATION_ERROR"


class Unprocessable(InvalidInput):
    """Well-formed, but its fields break the contract; ``fields`` lists every one.
    (For the APIs that tell this apart from a request that cannot be honoured.)"""

    code = "VALIDATION_ERROR"


class UnsupportedMediaType(DomainError):
    code = "UNSUPPORTED_MEDIA_TYPE"


class Unauthenticated(DomainError):
    """No credentials, or credentials that prove nothing."""

    code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    """Known caller, not allowed to do this (another owner's resource, a dead claim)."""

    code = "FORBIDDEN"


class NotFound(DomainError):
    code = "NOT_FOUND"


class Conflict(DomainError):
    """The resource's state does not allow it now."""

    code = "CONFLICT"


class TooLarge(DomainError):
    code = "PAYLOAD_TOO_LARGE"


class RateLimited(DomainError):
    code = "RATE_LIMITED"


class Unavailable(DomainError):
    """A dependency the request needs is down; retrying later may work."""

    code = "SERVICE_UNAVAILABLE"


class TimedOut(DomainError):
    """The client took too long to send its request."""

    code = "REQUEST_TIMEOUT"


class ClientGone(DomainError):
    """The client went away before its request was read: nobody hears the answer."""

    code = "CLIENT_CLOSED_REQUEST"


class UpstreamFailed(DomainError):
    """A service the server calls on the caller's behalf failed or could not be reached."""

    code = "UPSTREAM_FAILED"
