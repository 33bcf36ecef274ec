"""One Starlette route per path, whatever its methods: a wrong method is then
answered 405 with an ``Allow`` header that lists every method of the path
(a route per method would list only its own)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["Endpoint", "Operation", "grouped"]

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
