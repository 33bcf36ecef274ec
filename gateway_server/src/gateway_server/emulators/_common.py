"""What every vendor emulator shares: its errors, its seed data, its clock,
and the app that answers every error in the vendor's words.

An emulator raises :class:`VendorError` (or one of the server's domain
errors); the vendor's own app renders it in that vendor's error format, so
one emulator never answers in another's words.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import attrs
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .._errors import DomainError, RateLimited
from .._settings import EMULATORS
from ..edge import Verdict, status_of

__all__ = [
    "EMULATORS",
    "Context",
    "DroppedConnection",
    "Render",
    "VendorApp",
    "VendorError",
    "by_method",
    "load_seed",
    "refuse_over_limit",
    "request_id",
    "status_for",
    "vendor_app",
]

log = logging.getLogger("gateway_server.emulators")

Render = Callable[[Request, int, DomainError], Response]
"""How a vendor answers an error: the request, the status, the error."""


class VendorError(DomainError):
    """An answer a vendor gives with a status of its own (406, 410, ...)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, details, code=code, headers=headers)
        self.status = status


def refuse_over_limit(verdict: Verdict, now: float, code: str) -> None:
    """A 429 with ``Retry-After``, in the vendor's ``code``, when ``verdict`` refused the call."""
    if not verdict.allowed:
        wait = max(1, math.ceil(verdict.reset_at - now))
        raise RateLimited(
            f"rate limit of {verdict.limit} requests a minute exceeded",
            code=code,
            headers={"Retry-After": str(wait)},
        )


def status_for(error: DomainError) -> int:
    """The HTTP status of an error: its own, else the server's one table."""
    if isinstance(error, VendorError):
        return error.status
    return status_of(error)


def load_seed(path: str | Path | None) -> dict[str, Any]:
    """The emulators' seed data: the user's JSON file, else the packaged default."""
    if path is None:
        text = resources.files(__package__).joinpath("seed.json").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path or 'seed.json'}: the seed data must be a JSON object")
    return data


@attrs.define
class Context:
    """What an emulator runs on: the server's clock and its part of the seed."""

    clock: Callable[[], float]
    """Wall-clock seconds: the server's (``services.clock``), so tests can move it."""
    seed: dict[str, Any]
    max_body_bytes: int = 1_048_576


def request_id(request: Request) -> str:
    """The request id the server's edge gave this request (its ``X-Request-ID``)."""
    state = request.scope.get("state") or {}
    return str(state.get("request_id") or "local")


Endpoint = Callable[[Request], Awaitable[Response]]


def by_method(path: str, **endpoints: Endpoint) -> Route:
    """One route for ``path`` with an endpoint per method (``GET=list, POST=create``):
    a wrong method then gets a 405 whose ``Allow`` names every method of the path."""

    async def dispatch(request: Request) -> Response:
        return await endpoints[request.method](request)

    return Route(path, dispatch, methods=list(endpoints))


class DroppedConnection(Exception):
    """Raised on purpose after the response started (a ``drop`` fault): the
    server closes the connection, and the client sees it cut mid-answer."""


@attrs.frozen
class VendorApp:
    """A vendor's ASGI app and how it answers errors (fault injection answers so too)."""

    app: Starlette
    render: Render


def vendor_app(routes: Sequence[BaseRoute], render: Render) -> VendorApp:
    """A vendor's app: its routes, and every error (ours, Starlette's 404 and
    405, anything unexpected) answered by ``render`` in the vendor's format."""

    async def domain(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        return render(request, status_for(exc), exc)

    async def http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
        error = VendorError(exc.status_code, code, str(exc.detail), headers=exc.headers)
        return render(request, exc.status_code, error)

    async def unexpected(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, DroppedConnection):  # a fault armed on purpose is no error
            log.exception("emulator error on %s %s", request.method, request.url.path)
        return render(request, 500, VendorError(500, "INTERNAL_ERROR", "internal error"))

    handlers = {DomainError: domain, HTTPException: http, Exception: unexpected}
    return VendorApp(Starlette(routes=list(routes), exception_handlers=handlers), render)
