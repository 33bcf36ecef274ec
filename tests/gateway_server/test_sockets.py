"""The gateway's sockets over a real socket (uvicorn on 127.0.0.1, configured
as ``gateway-server serve`` configures it): keepalive pings drop dead peers,
compression is off unless asked for."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from websockets.client import ClientProtocol
from websockets.frames import Close, Frame, Opcode
from websockets.protocol import State
from websockets.sync.client import connect
from websockets.uri import parse_uri

from gateway_server import GatewayApp, create_app
from gateway_server._cli import socket_options
from tests.gateway_support import customer_token, settings
from tests.support import LocalServer

UNLIMITED = {
    "device_rate_per_minute": 10**6,
    "customer_rate_per_minute": 10**6,
    "auth_attempts_per_minute": 10**4,
    "ws_messages_per_second": 10**6,
}


@contextlib.contextmanager
def live(tmp_path: Path, **overrides: Any) -> Iterator[tuple[LocalServer, GatewayApp]]:
    """The gateway with ``overrides`` under uvicorn in a thread, as ``serve`` runs it."""
    configured = settings(tmp_path, **UNLIMITED, **overrides)
    app = create_app(configured)
    server = LocalServer(app, lifespan="on", **socket_options(configured))
    server.start()
    try:
        yield server, app
    finally:
        server.stop()


def ws_url(server: LocalServer, path: str) -> str:
    return f"ws://127.0.0.1:{server.port}{path}"


def customer_ws(server: LocalServer, app: GatewayApp, customer: str = "cust-a") -> str:
    return ws_url(server, f"/ws/customer?token={customer_token(app, customer)}")


def device_ws(server: LocalServer, app: GatewayApp, device_id: str) -> str:
    """Provision and register ``device_id``: its socket's URL."""
    bearer = {"Authorization": f"Bearer {customer_token(app)}"}
    with httpx.Client(base_url=server.url) as http:
        body = {"deviceId": device_id}
        code = http.post("/api/v1/customer/devices/provision", json=body, headers=bearer)
        body["activationCode"] = code.json()["device"]["activationCode"]
        secret = http.post("/api/v1/device/register", json=body).json()["deviceSecret"]
    return ws_url(server, f"/ws/device?deviceId={device_id}&deviceSecret={secret}")


def system_info(server: LocalServer, app: GatewayApp) -> dict[str, Any]:
    bearer = {"Authorization": f"Bearer {customer_token(app)}"}
    answer = httpx.get(f"{server.url}/api/v1/customer/system/info", headers=bearer)
    services: dict[str, Any] = answer.json()["services"]
    return services


def eventually(check: Callable[[], bool], what: str) -> None:
    """Wait (10 s at most) until ``check()`` holds: no timing is asserted."""
    deadline = time.monotonic() + 10
    while not check():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.02)


def message(frame: Frame) -> Any:
    """A text frame's JSON."""
    return json.loads(bytes(frame.data))


class RawPeer:
    """A WebSocket client on a bare TCP socket (websockets' sans-I/O protocol)
    that reads only when asked and answers pings only when told to, and can
    shrink its receive buffer: a peer that stalls or dies, on demand."""

    def __init__(self, url: str, receive_buffer: int | None = None) -> None:
        uri = parse_uri(url)
        self.protocol = ClientProtocol(uri)
        self.sock = socket.socket()
        if receive_buffer is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(10)
        self.sock.connect((uri.host, uri.port))
        self.protocol.send_request(self.protocol.connect())
        self._flush()
        self.frames: list[Frame] = []
        while self.protocol.state is State.CONNECTING:
            self._read(answer=True)
        assert self.protocol.state is State.OPEN, self.protocol.handshake_exc

    def _flush(self, answer: bool = True) -> None:
        data = b"".join(self.protocol.data_to_send())
        if answer and data:
            self.sock.sendall(data)

    def _read(self, answer: bool) -> bool:
        """One read; False at the end of the stream."""
        data = self.sock.recv(65536)
        if data:
            self.protocol.receive_data(data)
        else:
            self.protocol.receive_eof()
        self.frames += [e for e in self.protocol.events_received() if isinstance(e, Frame)]
        self._flush(answer)  # a pong, or the echo of a close: only when answering
        return bool(data)

    def send(self, message: dict[str, Any]) -> None:
        self.protocol.send_text(json.dumps(message).encode())
        self._flush()

    def next_frame(self, answer: bool = True) -> Frame | None:
        while not self.frames:
            if not self._read(answer):
                return None
        return self.frames.pop(0)

    def until_closed(self, answer: bool = True) -> list[Frame]:
        """Every frame until the server closes the connection."""
        frames = []
        while (frame := self.next_frame(answer)) is not None:
            frames.append(frame)
        return frames

    def close(self) -> None:
        self.sock.close()


def test_a_peer_that_stops_answering_pings_is_dropped(tmp_path: Path) -> None:
    with live(tmp_path, ws_ping_interval=0.2, ws_ping_timeout=0.2) as (server, app):
        peer = RawPeer(customer_ws(server, app))
        eventually(lambda: system_info(server, app)["websockets"] == 1, "the socket is open")
        frames = peer.until_closed(answer=False)  # pings come; no pong goes back
        peer.close()
        assert frames[0].opcode is Opcode.PING
        assert frames[-1].opcode is Opcode.CLOSE
        assert Close.parse(frames[-1].data).code == 1011  # keepalive ping timeout
        eventually(lambda: system_info(server, app)["websockets"] == 0, "the socket is gone")


def test_a_peer_that_answers_pings_stays(tmp_path: Path) -> None:
    with live(tmp_path, ws_ping_interval=0.1, ws_ping_timeout=0.5) as (server, app):
        peer = RawPeer(customer_ws(server, app))
        pings = 0
        while pings < 5:  # five pings, each answered: longer than a ping timeout
            frame = peer.next_frame(answer=True)
            assert frame is not None, "the server closed a live peer"
            pings += frame.opcode is Opcode.PING
        peer.send({"type": "subscribe", "deviceId": "dev-none"})
        while (frame := peer.next_frame()) is not None and frame.opcode is not Opcode.TEXT:
            pass
        assert frame is not None
        assert message(frame)["type"] == "error"  # answered: the socket still works
        assert system_info(server, app)["websockets"] == 1
        peer.close()


def test_compression_is_off_unless_configured(tmp_path: Path) -> None:
    # The client offers per-message deflate (as browsers do); by default the
    # server declines it, since it costs memory per socket for tiny messages.
    with live(tmp_path / "default") as (server, app), connect(customer_ws(server, app)) as ws:
        assert ws.response is not None
        assert ws.response.headers.get("Sec-WebSocket-Extensions") is None
    with (
        live(tmp_path / "deflate", ws_per_message_deflate=True) as (server, app),
        connect(customer_ws(server, app)) as ws,
    ):
        assert ws.response is not None
        assert "permessage-deflate" in ws.response.headers["Sec-WebSocket-Extensions"]
