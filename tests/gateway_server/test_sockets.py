"""The gateway's sockets over a real socket (uvicorn on 127.0.0.1, configured
as ``gateway-server serve`` configures it): keepalive pings drop dead peers,
compression is off unless asked for, an idle socket holds no task of ours,
and a subscriber that stops reading is closed with 1013 and counted without
delaying the others."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from websockets.asyncio.client import connect as aconnect
from websockets.exceptions import InvalidStatus
from websockets.frames import Close, Opcode
from websockets.sync.client import connect

from gateway_server import GatewayApp, create_app
from gateway_server._cli import socket_options
from gateway_server.edge import LeanWebSocketProtocol
from tests.gateway_support import TIMESTAMP, RawPeer, customer_token, message, settings
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


def test_sockets_skip_the_router_and_answer_and_log_as_before(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The edge's fast lane takes /ws/device and /ws/customer straight to their
    endpoints (a socket keeps a frame of every layer it passes through)."""
    caplog.set_level(logging.INFO, "gateway_server.access")
    with live(tmp_path) as (server, app):
        with connect(customer_ws(server, app)) as ws:
            ws.send(json.dumps({"type": "subscribe", "deviceId": "dev-404"}))
            assert json.loads(ws.recv(timeout=5))["data"]["code"] == "FORBIDDEN"
        for path in ("/ws/nowhere", "/ws/customer/"):  # the router's answer, as before
            with pytest.raises(InvalidStatus) as refused:
                connect(ws_url(server, path)).close()
            assert refused.value.response.status_code == 403

        def logged() -> list[dict[str, Any]]:
            access = [r for r in caplog.records if r.name == "gateway_server.access"]
            return [json.loads(r.getMessage()) for r in access]

        eventually(lambda: any(line["path"].startswith("/ws/customer") for line in logged()),
                   "the socket's access-log line")  # fmt: skip
    (line,) = [line for line in logged() if line["path"].startswith("/ws/customer?")]
    assert line["method"] == "WS"
    assert line["path"] == "/ws/customer?token=[REDACTED]"


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


def test_a_subscriber_that_stops_reading_is_closed_with_1013_and_others_hear_everything(
    tmp_path: Path,
) -> None:
    with (
        live(tmp_path, ws_send_queue=4) as (server, app),
        httpx.Client(base_url=server.url) as http,
        connect(customer_ws(server, app)) as fast,
    ):
        bearer = {"Authorization": f"Bearer {customer_token(app)}"}
        device = {"X-Device-Token": device_token(http, bearer, "dev-001")}
        session = http.post("/api/v1/customer/sessions", json={"deviceId": "dev-001", "type": "diagnostic"},
                            headers=bearer).json()["session"]["id"]  # fmt: skip
        stalled = RawPeer(customer_ws(server, app), receive_buffer=4096)
        subscribe = {"type": "subscribe", "deviceId": "dev-001"}
        fast.send(json.dumps(subscribe))
        stalled.send(subscribe)
        assert json.loads(fast.recv(timeout=5))["type"] == "subscribed"
        frame = stalled.next_frame()
        assert frame is not None
        assert message(frame)["type"] == "subscribed"
        # The stalled peer reads no more: its kernel buffers fill, then the
        # server's, then its outbox of 4 events. Each command's completion
        # carries 500 KB of output; the fast subscriber hears every update.
        statuses: list[str] = []
        while system_info(server, app)["websocketsTooSlow"] == 0:
            assert len(statuses) < 300, "the stalled subscriber was never closed"
            path = f"/api/v1/customer/sessions/{session}/commands"
            http.post(path, json={"type": "job"}, headers=bearer)
            claim = http.post("/api/v1/device/commands/claim", json={}, headers=device).json()
            (command,) = claim["commands"]
            result = {"claimToken": command["claimToken"], "status": "success",
                      "executedAt": TIMESTAMP, "duration": 1.0, "output": "x" * 500_000}  # fmt: skip
            path = f"/api/v1/device/commands/{command['id']}/result"
            assert http.post(path, json=result, headers=device).status_code == 200
            for _ in range(3):  # pending, claimed, completed
                statuses.append(json.loads(fast.recv(timeout=10))["data"]["status"])
        assert statuses[-3:] == ["pending", "claimed", "completed"]
        # What the server had buffered for the stalled peer, then its close frame.
        frames = stalled.until_closed()
        stalled.close()
        events = [message(f) for f in frames if f.opcode is Opcode.TEXT]
        assert {e["type"] for e in events} == {"command_update"}
        assert len(events) < len(statuses)
        assert frames[-1].opcode is Opcode.CLOSE
        assert Close.parse(frames[-1].data).code == 1013
        eventually(lambda: system_info(server, app)["websockets"] == 1, "the stalled one is gone")
        # The others carry on.
        http.post(f"/api/v1/customer/sessions/{session}/commands", json={"type": "job"},
                  headers=bearer)  # fmt: skip
        assert json.loads(fast.recv(timeout=5))["data"]["status"] == "pending"
        assert system_info(server, app)["websocketsTooSlow"] == 1


def device_token(http: httpx.Client, bearer: dict[str, str], device_id: str) -> str:
    """Provision, register and authenticate ``device_id``: its session token."""
    body = {"deviceId": device_id}
    code = http.post("/api/v1/customer/devices/provision", json=body, headers=bearer)
    body["activationCode"] = code.json()["device"]["activationCode"]
    secret = http.post("/api/v1/device/register", json=body).json()["deviceSecret"]
    auth = http.post("/api/v1/device/auth", json={"deviceId": device_id, "deviceSecret": secret})
    return str(auth.json()["token"])


@contextlib.asynccontextmanager
async def serving(tmp_path: Path) -> AsyncIterator[tuple[str, GatewayApp, uvicorn.Server]]:
    """The gateway under uvicorn in this test's own event loop, so its tasks can be counted."""
    configured = settings(tmp_path, **UNLIMITED)
    app = create_app(configured)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", lifespan="on", **socket_options(configured))
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(1000):  # ten seconds at most
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}", app, server
    finally:
        server.should_exit = True
        await task
        sock.close()


async def test_an_idle_socket_holds_no_task_of_the_gateways(tmp_path: Path) -> None:
    async with serving(tmp_path) as (address, app, server):
        bearer = {"Authorization": f"Bearer {customer_token(app)}"}
        urls = []
        async with httpx.AsyncClient(base_url=f"http://{address}", headers=bearer) as http:
            for i in range(5):
                body = {"deviceId": f"dev-{i}"}
                code = await http.post("/api/v1/customer/devices/provision", json=body)
                body["activationCode"] = code.json()["device"]["activationCode"]
                secret = (await http.post("/api/v1/device/register", json=body)).json()
                urls.append(
                    f"ws://{address}/ws/device?deviceId=dev-{i}"
                    f"&deviceSecret={secret['deviceSecret']}"
                )
            urls += [f"ws://{address}/ws/customer?token={customer_token(app)}"] * 5
            before = len(asyncio.all_tasks())
            conns = [await aconnect(url, ping_interval=None) for url in urls]
            for conn in conns[5:]:  # the customers watch every device
                for i in range(5):
                    await conn.send(json.dumps({"type": "subscribe", "deviceId": f"dev-{i}"}))
                    assert json.loads(await conn.recv())["type"] == "subscribed"
            # One task per connection: uvicorn's, running the app; none of ours.
            assert len(asyncio.all_tasks()) - before == len(conns)
            body = {"deviceId": "dev-0", "type": "diagnostic"}
            session = await http.post("/api/v1/customer/sessions", json=body)
            path = f"/api/v1/customer/sessions/{session.json()['session']['id']}/commands"
            await http.post(path, json={"type": "job"})
            for conn in conns[:1] + conns[5:]:  # heard by its device and every watcher
                assert json.loads(await conn.recv())["type"] in ("command", "command_update")
            for _ in range(100):  # the sending tasks end once their outboxes are empty
                if len(asyncio.all_tasks()) - before == len(conns):
                    break
                await asyncio.sleep(0.01)
            assert len(asyncio.all_tasks()) - before == len(conns)
            # Nor does uvicorn's side of an idle socket keep its handshake or a
            # buffer (the lean protocol, the default implementation).
            connections = server.server_state.connections  # and httpx's HTTP one
            protocols = [c for c in connections if not isinstance(c, H11Protocol)]
            assert len(protocols) == len(conns)
            for protocol in protocols:
                assert type(protocol) is LeanWebSocketProtocol
                assert not hasattr(protocol, "request")
                assert not hasattr(protocol, "response")
                assert protocol.queue.qsize() == 0
                assert protocol.writable.is_set()
            for conn in conns:
                await conn.close()
