"""Test helpers shared by every package's tests: a fake clock, a real local
server, and mypy's verdict on a user's script."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
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


def mypy_errors(snippet: str, tmp_path: Path) -> tuple[list[str], str]:
    """What ``mypy --strict`` says of ``snippet`` as a user's script: each error's
    text (after ``error:``), and the whole output to show when a test fails."""
    source = tmp_path / "use.py"
    source.write_text(snippet)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"),
         "--config-file", "/dev/null", str(source)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )  # fmt: skip
    errors = [
        line.split(": error: ", 1)[1] for line in done.stdout.splitlines() if ": error: " in line
    ]
    return errors, done.stdout


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
