"""A JWKS endpoint on 127.0.0.1 for the tests, in a thread: it serves a key
set (``ok``), fails (``fail``: a 500), or holds each request until released
(``hold``: a slow identity provider), and counts the requests it gets."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import attrs

__all__ = ["JwksServer", "jwks_server"]

Mode = Literal["ok", "fail", "hold"]


@attrs.define
class JwksServer:
    document: dict[str, Any]
    mode: Mode = "ok"
    url: str = ""
    requests: int = 0
    released: threading.Event = attrs.field(factory=threading.Event)
    arrived: threading.Event = attrs.field(factory=threading.Event)

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        self.requests += 1
        self.arrived.set()
        if self.mode == "hold":
            self.released.wait(30)
        if self.mode == "fail":
            handler.send_response(500)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        body = json.dumps(self.document).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


@contextmanager
def jwks_server(document: dict[str, Any], mode: Mode = "ok") -> Iterator[JwksServer]:
    state = JwksServer(document, mode)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.answer(self)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    try:
        yield state
    finally:
        state.released.set()
        server.shutdown()
        server.server_close()
