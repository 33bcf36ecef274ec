"""Clients of our emulators over a real socket, every exchange checked against
the vendor's contract in contracts/.

The emulators answer under ``http://127.0.0.1:<port>/emulators/<name>``; the
contracts describe the vendor's own hosts. :class:`Checked` rewrites each
request's URL to where the contract says it lives (the path below the
emulator's prefix is the vendor's path), validates the request, sends the
original over the socket, then validates the answer.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.contract import Contract

Where = Callable[[httpx.URL], str | None]
"""The contract's URL for a request URL, or None for one the contract does not describe."""


def prefixed(served: str, documented: str, **others: str) -> Where:
    """Requests under ``served`` map to ``documented`` (``others``: more prefixes)."""
    table = sorted({served: documented, **others}.items(), key=lambda kv: -len(kv[0]))

    def where(url: httpx.URL) -> str | None:
        text = str(url)
        for prefix, target in table:
            rest = text[len(prefix) :]
            if text.startswith(prefix) and rest[:1] in ("", "/", "?"):
                return target + rest
        return None

    return where


def _documented(request: httpx.Request, where: Where) -> httpx.Request | None:
    url = where(request.url)
    if url is None:
        return None
    return httpx.Request(request.method, url, headers=request.headers, content=request.read())


class Checked(httpx.BaseTransport):
    def __init__(self, contract: Contract, where: Where) -> None:
        self.contract = contract
        self.where = where
        self.inner = httpx.HTTPTransport()
        self.seen: list[tuple[httpx.Request, int]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        documented = _documented(request, self.where)
        if documented is not None:
            self.contract.validate_request(documented)
        response = self.inner.handle_request(request)
        if documented is not None:
            response.read()
            self.contract.validate_response(documented, response)
        self.seen.append((request, response.status_code))
        return response

    def close(self) -> None:
        self.inner.close()


class AsyncChecked(httpx.AsyncBaseTransport):
    def __init__(self, contract: Contract, where: Where) -> None:
        self.contract = contract
        self.where = where
        self.inner = httpx.AsyncHTTPTransport()
        self.seen: list[tuple[httpx.Request, int]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        documented = _documented(request, self.where)
        if documented is not None:
            self.contract.validate_request(documented)
        response = await self.inner.handle_async_request(request)
        if documented is not None:
            await response.aread()
            self.contract.validate_response(documented, response)
        self.seen.append((request, response.status_code))
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
