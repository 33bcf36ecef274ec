"""Fault injection for users' own tests: the next N calls of a route answer
a given 5xx, a 429, slowly, or not at all (the connection dropped).

:class:`Faults` is the I/O-free registry (which call gets which fault);
:class:`FaultInjection` wraps a vendor's app and acts on it; the control
routes (``/emulators/_control/faults``) let a test arm and clear faults over
HTTP, from any process.
"""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
from typing import Annotated, Any, Literal

import attrs
from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from ..edge import Body, JSONResponse, read_json
from ._common import DroppedConnection, Render, VendorError, by_method, vendor_app

__all__ = ["Fault", "FaultInjection", "Faults", "control_app"]

Kind = Literal["status", "429", "slow", "drop"]


class FaultRequest(Body):
    """``POST /emulators/_control/faults``: what to break, how often, and how."""

    route: Annotated[str, Field(min_length=1, max_length=500, pattern=r"^/")]
    kind: Kind
    count: Annotated[int, Field(ge=1, le=10_000)] = 1
    method: Annotated[str, Field(pattern=r"^[A-Za-z]{3,7}$")] | None = None
    status: Annotated[int, Field(ge=500, le=599)] = 503
    delay: Annotated[float, Field(ge=0, le=300)] = 2.0
    retry_after: Annotated[int, Field(ge=0, le=3600)] = 1


@attrs.define
class Fault:
    """One armed fault: the next ``remaining`` calls matching ``route`` (a path
    as the client requests it, ``*`` globs allowed) and ``method`` (any if
    None) get ``kind``."""

    id: int
    route: str
    kind: Kind
    remaining: int
    method: str | None = None
    status: int = 503
    delay: float = 2.0
    retry_after: int = 1

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return fnmatch.fnmatchcase(path, self.route)

    def view(self) -> dict[str, Any]:
        return attrs.asdict(self)


class Faults:
    """The armed faults, in the order they were armed; the first that matches a call takes it."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self.injected = 0

    def arm(self, body: FaultRequest) -> Fault:
        fault = Fault(
            id=next(self._ids),
            route=body.route,
            kind=body.kind,
            remaining=body.count,
            method=body.method.upper() if body.method else None,
            status=body.status,
            delay=body.delay,
            retry_after=body.retry_after,
        )
        self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The fault this call gets (counting it), or None."""
        for fault in self._faults:
            if fault.matches(method, path):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                self.injected += 1
                return fault
        return None

    def clear(self) -> int:
        cleared = len(self._faults)
        self._faults.clear()
        return cleared

    def armed(self) -> list[Fault]:
        return list(self._faults)


class FaultInjection:
    """A vendor's app with the armed faults applied before it sees a call."""

    def __init__(self, app: ASGIApp, faults: Faults, render: Render) -> None:
        self.app = app
        self.faults = faults
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Under a Mount, Starlette keeps the full path in "path" (the prefix
        # is in "root_path"): routes are matched as the client requested them.
        fault = self.faults.take(scope["method"], scope["path"])
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault.kind == "slow":
            await asyncio.sleep(fault.delay)
            await self.app(scope, receive, send)
            return
        if fault.kind == "drop":
            # Headers promise a body that never comes; the server then closes
            # the connection, as a crashed upstream or a cut network would.
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
                }
            )
            raise DroppedConnection(f"fault {fault.id}: connection dropped on purpose")
        request = Request(scope, receive)
        if fault.kind == "429":
            error = VendorError(
                429,
                "RATE_LIMITED",
                "too many requests (injected fault)",
                headers={"Retry-After": str(fault.retry_after)},
            )
        else:
            error = VendorError(fault.status, "INJECTED_FAULT", "injected fault")
        response = self.render(request, error.status, error)
        await response(scope, receive, send)


def control_app(faults: Faults, max_body_bytes: int) -> ASGIApp:
    """``/emulators/_control``: arm (POST), list (GET) and clear (DELETE) faults."""

    async def arm(request: Request) -> Response:
        body = await read_json(request, FaultRequest, max_body_bytes)
        return JSONResponse(faults.arm(body).view(), status_code=201)

    async def listing(request: Request) -> Response:
        return JSONResponse({"faults": [f.view() for f in faults.armed()]})

    async def clear(request: Request) -> Response:
        return JSONResponse({"cleared": faults.clear()})

    def render(request: Request, status: int, error: Any) -> Response:
        body: dict[str, Any] = {"code": error.code, "message": error.message}
        if error.details:
            body["details"] = error.details
        return JSONResponse({"error": body}, status_code=status, headers=error.headers)

    routes: list[BaseRoute] = [by_method("/faults", POST=arm, GET=listing, DELETE=clear)]
    return vendor_app(routes, render).app
