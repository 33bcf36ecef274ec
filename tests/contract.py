"""Check httpx requests and responses against an OpenAPI document in contracts/.

Client tests route every request through :meth:`Contract.check`: the request
the client sent must match the document, and so must the answer the fake
service gives back, so neither side of a test can drift from the contract.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path

import httpx
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

CONTRACTS = Path(__file__).resolve().parents[1] / "contracts"


class _Request:
    def __init__(self, request: httpx.Request) -> None:
        self._request = request
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(request.url.params.multi_items())),
            header=Headers(list(request.headers.items())),
            cookie=ImmutableMultiDict(),
        )

    @property
    def host_url(self) -> str:
        url = self._request.url
        return f"{url.scheme}://{url.netloc.decode()}"

    @property
    def path(self) -> str:
        return self._request.url.path

    @property
    def method(self) -> str:
        return self._request.method.lower()

    @property
    def body(self) -> bytes | None:
        return self._request.content or None

    @property
    def content_type(self) -> str:
        return str(self._request.headers.get("content-type", "")).lower()


class _Response:
    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def status_code(self) -> int:
        return self._response.status_code

    @property
    def content_type(self) -> str:
        return str(self._response.headers.get("content-type", "")).lower()

    @property
    def headers(self) -> Headers:
        return Headers(list(self._response.headers.items()))

    @property
    def data(self) -> bytes | None:
        return self._response.content or None


def _text(data: bytes, **parameters: str) -> str:
    """A text body; openapi-core passes the media type's parameters (``charset``)."""
    return data.decode(parameters.get("charset", "utf-8"))


@cache
def load(name: str) -> Contract:
    return Contract(CONTRACTS / name)


class Contract:
    def __init__(self, path: Path) -> None:
        config = Config(extra_media_type_deserializers={"text/csv": _text, "text/plain": _text})
        self.openapi = OpenAPI.from_file_path(str(path), config=config)
        self.requests_checked = 0
        self.responses_checked = 0

    def validate_request(self, request: httpx.Request) -> None:
        self.openapi.validate_request(_Request(request))
        self.requests_checked += 1

    def validate_response(self, request: httpx.Request, response: httpx.Response) -> None:
        self.openapi.validate_response(_Request(request), _Response(response))
        self.responses_checked += 1

    def check(
        self, handler: Callable[[httpx.Request], httpx.Response]
    ) -> Callable[[httpx.Request], httpx.Response]:
        """Wrap a respx side effect: validate the request, then the answer."""

        def checked(request: httpx.Request) -> httpx.Response:
            self.validate_request(request)
            response = handler(request)
            response.request = request
            self.validate_response(request, response)
            return response

        return checked

    def acheck(
        self, handler: Callable[[httpx.Request], Awaitable[httpx.Response]]
    ) -> Callable[[httpx.Request], Awaitable[httpx.Response]]:
        async def checked(request: httpx.Request) -> httpx.Response:
            self.validate_request(request)
            response = await handler(request)
            response.request = request
            self.validate_response(request, response)
            return response

        return checked
