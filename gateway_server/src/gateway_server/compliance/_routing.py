"""How requests find the compliance endpoints: one Starlette route per path,
whatever its methods (a wrong method is then answered 405 with an ``Allow``
header that lists every method of the path; a route per method would list
only its own), all behind one prefix check (:class:`Prefixed`), so that a
compliance request is not matched against every device gateway route first,
nor a gateway request against every compliance route."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from starlette.datastructures import URLPath
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import Receive, Scope, Send

__all__ = ["Endpoint", "Operation", "Prefixed", "grouped"]

Endpoint = Callable[[Request], Awaitable[Response]]
Operation = tuple[str, str, Endpoint]  # method, path, endpoint


def _dispatch(handlers: dict[str, Endpoint]) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await handlers[method](request)

    return endpoint


def grouped(operations: Iterable[Operation]) -> list[Route]:
    by_path: dict[str, dict[str, Endpoint]] = {}
    for method, path, endpoint in operations:
        by_path.setdefault(path, {})[method] = endpoint
    return [
        Route(path, _dispatch(handlers), methods=list(handlers))
        for path, handlers in by_path.items()
    ]


class Prefixed(BaseRoute):
    """Every path under ``prefixes`` goes to ``routes`` (their own router,
    whose 404 and 405 the app's handlers answer as for any route)."""

    def __init__(self, prefixes: tuple[str, ...], routes: list[Route]) -> None:
        self.prefixes = prefixes
        self.router = Router(routes=routes)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and scope["path"].startswith(self.prefixes):
            return Match.FULL, {}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        return self.router.url_path_for(name, **path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.router(scope, receive, send)
