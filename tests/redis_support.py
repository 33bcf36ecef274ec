"""A Redis of the test's own: ``redis-server`` on a free loopback port, with
nothing saved to disk, that a test may stop and start again on the same port
(the machine's shared Redis on 6379 is never touched)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway_server.events import RedisLink
from tests.gateway_support import free_port


class RedisServer:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("no redis-server on this machine")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory), "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        """Kill it (as a crash would): every connection to it drops."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None


def prefix() -> str:
    """A key prefix of the test's own."""
    return f"test-{uuid.uuid4().hex[:10]}:"


@contextlib.asynccontextmanager
async def redis_link(url: str) -> AsyncIterator[RedisLink]:
    """A link to ``url`` under a prefix of its own, started in this loop."""
    link = RedisLink(url, prefix())
    link.start()
    try:
        yield link
    finally:
        await link.close()
