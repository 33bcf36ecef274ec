"""`gateway-server demo` in a subprocess on a free loopback port, as a person runs it."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx


@contextlib.contextmanager
def demo_server(tmp_path: Path, *extra: str) -> Iterator[dict[str, Any]]:
    """``gateway-server demo`` on a free port until the block ends: its credentials."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    creds = tmp_path / "creds.json"
    if "--grpc-enabled" not in extra:  # HTTP alone unless the test asks for the agent channel
        extra = (*extra, "--no-grpc-enabled")
    server = subprocess.Popen(
        [sys.executable, "-m", "gateway_server._cli", "demo", "--port", str(port),
         "--data-dir", str(tmp_path / "data"), "--credentials-file", str(creds), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if (
                    httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
                    and creds.exists()
                ):
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "demo server did not start"
            time.sleep(0.2)
        loaded: dict[str, Any] = json.loads(creds.read_text())
        yield {**loaded, "file": str(creds)}
    finally:
        server.terminate()
        server.wait(30)
