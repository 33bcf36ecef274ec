"""Test helpers shared by every package's tests: a fake clock and a real local server."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any, Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route


class FakeClock:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self, start: float = 1_000.0, wall: float = 1_700_000_000.0) -> None:
        self.now = start
        self.wall_offset = wall - start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now + self.wall_offset

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


# -- a real server on 127.0.0.1, for what only a socket shows ---------------
async def _item(request: Request) -> Response:
    return JSONResponse({"id": request.path_params["id"], "name": "widget", "size": 3})


async def _fail(request: Request) -> Response:
    return PlainTextResponse("boom " * 100, status_code=int(request.path_params["code"]))


def _app() -> Starlette:
    return Starlette(
        routes=[
            Route("/items/{id}", _item),
            Route("/fail/{code:int}", _fail, methods=["GET", "POST"]),
        ]
    )


class LocalServer:
    """Uvicorn on 127.0.0.1 and a free port, in a thread."""

    def __init__(
        self, app: Any = None, *, lifespan: Literal["on", "off"] = "off", **options: Any
    ) -> None:
        """``options`` go to ``uvicorn.Config`` (e.g. the gateway's socket options)."""
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        config = uvicorn.Config(
            app if app is not None else _app(),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan=lifespan,
            **options,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("test server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
