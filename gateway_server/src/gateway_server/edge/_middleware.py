"""The outermost layers: request ids and the access log (:class:`Edge`), and
the fast lane that takes a few hot routes straight to their endpoints
(:class:`FastLane`)."""

from __future__ import annotations

import itertools
import json
import logging
import re
import secrets
import time
from collections.abc import Sequence

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Match, Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from .._errors import DomainError
from ._errors import error_response, exception_handlers
from ._redaction import ACCESS_LOG, SECRET_PARAMS

__all__ = ["Edge", "FastLane", "redacted_path"]

access_log = logging.getLogger(ACCESS_LOG)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def redacted_path(scope: Scope) -> str:
    """The path and query, with the value of every secret-looking parameter masked."""
    path = str(scope.get("path", ""))
    query = scope.get("query_string", b"").decode("latin-1")
    if not query:
        return path
    parts = []
    for pair in query.split("&"):
        name, _, _value = pair.partition("=")
        parts.append(f"{name}=[REDACTED]" if SECRET_PARAMS.search(name) else pair)
    return f"{path}?{'&'.join(parts)}"


class Edge:
    """X-Request-ID on every response and one structured access-log line per
    request, with secret-looking query values masked and no headers logged.

    A request id the caller did not send is this process's random prefix and
    a counter: unique without a system call per request (``uuid4`` reads
    the OS's random source each time, a few percent of a device request).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._ids = map(f"{secrets.token_hex(8)}{{:016x}}".format, itertools.count(1))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = None
        for key, value in scope.get("headers", ()):
            if key == b"x-request-id":
                candidate = value.decode("latin-1")
                if _REQUEST_ID.fullmatch(candidate):
                    request_id = candidate
                break
        request_id = request_id or next(self._ids)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 0

        # A socket's messages carry no headers: they go out unwrapped (one call
        # less per message, and no closure kept for as long as the socket lives).
        forward: Send = send
        if scope["type"] == "http":
            id_header = (b"x-request-id", request_id.encode())

            async def send_with_id(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    message["headers"] = [*message.get("headers", ()), id_header]
                await send(message)

            forward = send_with_id
        try:
            await self.app(scope, receive, forward)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    json.dumps(
                        {
                            "request_id": request_id,
                            "method": scope.get("method", "WS"),
                            "path": redacted_path(scope),
                            "status": status,
                            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                            "client": (scope.get("client") or ("?",))[0],
                        }
                    )
                )


class FastLane:
    """A few hot routes (a device's request loop: claim, result, heartbeat,
    extend) and the WebSocket routes, from the edge straight to their endpoints.

    A device worker makes these requests many times a second, and on them
    Starlette's exception middleware, router walk and per-route exception
    wrapper were a tenth of the app's own time. The routes are the app's own
    ``Route`` objects, matched by Starlette itself, so a path, a method or a
    root path means exactly what it means to the router; anything they do not
    fully match (another path, a wrong method, a trailing slash) goes on to
    the router as before. An error answers as the exception middleware would
    answer it (the same handlers); anything unexpected goes up to the
    server-error middleware's 500, as before.

    A socket lives for hours, and every layer it passes through keeps a
    suspended frame for as long: past the router, the exception middleware
    and two exception wrappers, an idle socket holds about 4 KB less. Socket
    endpoints answer their own errors (an error message, or a close code), as
    they did behind those layers.
    """

    def __init__(
        self, app: ASGIApp, routes: Sequence[Route], sockets: Sequence[WebSocketRoute] = ()
    ) -> None:
        self.app = app
        self.routes = tuple(routes)
        self.sockets = tuple(sockets)
        handlers = exception_handlers()
        self._http_error = handlers[HTTPException]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self.routes:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child_scope)
                    request = Request(scope, receive, send)
                    try:
                        response = await route.endpoint(request)
                    except DomainError as exc:
                        response = error_response(exc)
                    except HTTPException as exc:
                        response = await self._http_error(request, exc)
                    await response(scope, receive, send)
                    return
        elif scope["type"] == "websocket":
            for socket_route in self.sockets:
                match, child_scope = socket_route.matches(scope)
                if match is Match.FULL:
                    scope.update(child_scope)
                    await socket_route.endpoint(WebSocket(scope, receive, send))
                    return
        await self.app(scope, receive, send)
