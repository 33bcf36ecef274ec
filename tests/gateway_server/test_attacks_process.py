"""Attacks on the server as `gateway-server serve` runs it (uvicorn, a real
socket on 127.0.0.1): what it logs, whom it believes about the client's
address, clients that send half a request, frames over the size limit.

Each test names the finding of issue 16 it closes."""

from __future__ import annotations

import io
import json
import logging
import secrets
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.frames import Frame, Opcode
from websockets.sync.client import connect

from gateway_server import CustomerVerifier
from gateway_server.edge import RedactSecrets
from tests.gateway_support import ServerProcess, running_gateway

pytestmark = pytest.mark.one_backend(
    "attacks on the HTTP edge of a process (timeouts, logs, proxies): no statement differs by database"
)

SECRET = "attack-test-secret-" + "q" * 24
MAX_BODY = 65_536


def bearer(customer: str = "cust-a") -> dict[str, str]:
    token = CustomerVerifier(secret=SECRET, audience="gateway").mint(customer)
    return {"Authorization": f"Bearer {token}"}


def register(url: str, device_id: str) -> tuple[str, str]:
    """Provision and register a device: (its activation code, its secret)."""
    r = httpx.post(
        f"{url}/api/v1/customer/devices/provision", json={"deviceId": device_id}, headers=bearer()
    )
    code = r.json()["device"]["activationCode"]
    r = httpx.post(
        f"{url}/api/v1/device/register", json={"deviceId": device_id, "activationCode": code}
    )
    return code, r.json()["deviceSecret"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the tests that need no log of their own: small bodies,
    short read timeouts."""
    data = tmp_path_factory.mktemp("attacks")
    proc = ServerProcess(
        data / "data", SECRET, "--max-body-bytes", str(MAX_BODY),
        "--header-timeout", "0.5", "--body-timeout", "0.5",
    )  # fmt: skip
    proc.start()
    yield proc
    proc.stop()


def test_f9_a_socket_message_over_the_body_limit_closes_the_socket(server: ServerProcess) -> None:
    """Finding 9: a 10 MiB ``status`` message was stored and served back; a
    socket message is held to the body limit (1009, message too big)."""
    _, secret = register(server.url, "frame-001")
    ws_url = f"ws://127.0.0.1:{server.port}/ws/device?deviceId=frame-001&deviceSecret={secret}"
    status = {"type": "status", "data": {"status": "online", "diagnostics": "x" * MAX_BODY}}
    with connect(ws_url, open_timeout=5, max_size=None) as ws:
        ws.send(json.dumps(status))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009
    r = httpx.get(f"{server.url}/api/v1/customer/devices/frame-001/status", headers=bearer())
    assert r.json()["device"]["diagnostics"] is None


def _socket(url: str, headers: dict[str, str] | None = None) -> bool:
    """Open a socket (True), or be refused (False)."""
    try:
        with connect(url, open_timeout=5, additional_headers=headers) as ws:
            ws.send(json.dumps({"type": "status", "data": {"status": "online"}}))
            ws.recv(timeout=5)
            return True
    except InvalidStatus:
        return False


@pytest.mark.parametrize("level", ["info", "trace"])
def test_f1_no_credential_reaches_any_log_line(tmp_path: Path, level: str) -> None:
    """Finding 1: uvicorn's own WebSocket lines printed the query string, the
    device secret and the customer JWT with it, on success and on refusal.
    Credentials go over REST and both sockets (in the query and in headers,
    right and wrong); the process's whole output (at ``trace``, every
    logger's every line) holds none of them."""
    log = tmp_path / "server.log"
    server = ServerProcess(tmp_path / "data", SECRET, log=log, log_level=level)
    server.start()
    try:
        url, ws = server.url, f"ws://127.0.0.1:{server.port}"
        customer = bearer()
        wrong_code = "WXYZ-WXYZ-WXYZ-WXYZ"
        r = httpx.post(
            f"{url}/api/v1/device/register",
            json={"deviceId": "log-001", "activationCode": wrong_code},
        )
        assert r.status_code == 404
        code, secret = register(url, "log-001")
        wrong_secret = "wrong-" + secrets.token_urlsafe(32)
        assert (
            httpx.post(
                f"{url}/api/v1/device/auth",
                json={"deviceId": "log-001", "deviceSecret": wrong_secret},
            ).status_code
            == 401
        )
        token = httpx.post(
            f"{url}/api/v1/device/auth", json={"deviceId": "log-001", "deviceSecret": secret}
        ).json()["token"]
        session = httpx.post(
            f"{url}/api/v1/customer/sessions",
            json={"deviceId": "log-001", "type": "diagnostic"},
            headers=customer,
        ).json()["session"]["id"]
        httpx.post(
            f"{url}/api/v1/customer/sessions/{session}/commands",
            json={"type": "job"},
            headers=customer,
        )
        (claimed,) = httpx.post(
            f"{url}/api/v1/device/commands/claim", json={}, headers={"X-Device-Token": token}
        ).json()["commands"]
        forged = CustomerVerifier(secret="forged-" + "f" * 40, audience="gateway").mint("cust-a")
        assert (
            httpx.get(
                f"{url}/api/v1/customer/devices", headers={"Authorization": f"Bearer {forged}"}
            ).status_code
            == 401
        )
        jwt = customer["Authorization"].removeprefix("Bearer ")
        wrong_token = secrets.token_urlsafe(32)
        opened = {
            "query": _socket(f"{ws}/ws/device?deviceId=log-001&deviceSecret={secret}"),
            "query-wrong": _socket(f"{ws}/ws/device?deviceId=log-001&deviceSecret={wrong_secret}"),
            "headers": _socket(
                f"{ws}/ws/device", {"X-Device-Id": "log-001", "X-Device-Secret": secret}
            ),
            "headers-wrong": _socket(
                f"{ws}/ws/device", {"X-Device-Id": "log-001", "X-Device-Secret": wrong_secret}
            ),
            "token": _socket(f"{ws}/ws/device", {"X-Device-Token": token}),
            "token-wrong": _socket(f"{ws}/ws/device", {"X-Device-Token": wrong_token}),
        }
        assert opened == {
            "query": True, "query-wrong": False, "headers": True,
            "headers-wrong": False, "token": True, "token-wrong": False,
        }  # fmt: skip
        for path, headers, accepted in (
            (f"/ws/customer?token={jwt}", None, True),
            (f"/ws/customer?token={forged}", None, False),
            ("/ws/customer", {"Authorization": f"Bearer {jwt}"}, True),
            ("/ws/customer", {"Authorization": f"Bearer {forged}"}, False),
        ):
            try:
                with connect(f"{ws}{path}", open_timeout=5, additional_headers=headers) as sock:
                    sock.send(json.dumps({"type": "subscribe", "deviceId": "log-001"}))
                    assert json.loads(sock.recv(timeout=5))["type"] == "subscribed"
                assert accepted
            except InvalidStatus:
                assert not accepted
        result = {
            "claimToken": claimed["claimToken"], "status": "success",
            "executedAt": "2024-06-01T10:00:00Z", "duration": 0.1, "commandId": claimed["id"],
        }  # fmt: skip
        with connect(f"{ws}/ws/device", additional_headers={"X-Device-Token": token}) as sock:
            sock.send(json.dumps({"type": "command_result", "data": result}))
            assert json.loads(sock.recv(timeout=5))["type"] == "command_result_ack"
    finally:
        assert server.proc is not None
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(35)
        server.stop()
    written = log.read_text()
    assert "WebSocket" in written or level == "info"
    assert "/api/v1/device/auth" in written
    credentials = {
        "device secret": secret, "wrong secret": wrong_secret, "activation code": code,
        "wrong code": wrong_code, "session token": token, "wrong token": wrong_token,
        "claim token": claimed["claimToken"], "customer JWT": jwt, "forged JWT": forged,
        "JWT signature": jwt.rsplit(".", 1)[1], "forged signature": forged.rsplit(".", 1)[1],
    }  # fmt: skip
    leaked = {name for name, value in credentials.items() if value in written}
    assert not leaked, f"in the {level} log: {sorted(leaked)}"


def test_f1_the_log_filter_masks_tracebacks_and_frame_payloads() -> None:
    """The same filter, on what a live run rarely shows: a traceback whose
    message holds a credential, and a frame of the websockets library."""
    secret = secrets.token_urlsafe(32)
    try:
        raise ValueError(f"bad request ?deviceSecret={secret}")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed: %s", ("boom",), None)
        record.exc_info = sys.exc_info()
    frame = Frame(Opcode.TEXT, json.dumps({"claimToken": secret}).encode())
    framed = logging.LogRecord("uvicorn.error", logging.DEBUG, __file__, 1, "< %s", (frame,), None)
    handler = logging.StreamHandler(io.StringIO())
    handler.addFilter(RedactSecrets())
    handler.setFormatter(logging.Formatter("%(message)s"))
    for item in (record, framed):
        handler.handle(item)
    written = handler.stream.getvalue()
    assert "Traceback" in written
    assert "TEXT [" in written
    assert secret not in written


def _spoofed_failures(url: str, device_id: str) -> list[int]:
    """Twelve wrong secrets for one device, each claiming another address."""
    return [
        httpx.post(
            f"{url}/api/v1/device/auth",
            json={"deviceId": device_id, "deviceSecret": "guess"},
            headers={"X-Forwarded-For": f"198.51.100.{i}"},
        ).status_code
        for i in range(12)
    ]


def test_f6_x_forwarded_for_is_not_believed_by_default(server: ServerProcess) -> None:
    """Finding 6: uvicorn trusted X-Forwarded-For from 127.0.0.1, so a client
    there chose its own address, and with it a fresh failure budget."""
    register(server.url, "proxy-001")
    assert _spoofed_failures(server.url, "proxy-001") == [401] * 10 + [429] * 2


def test_f6_a_configured_proxy_is_believed(tmp_path: Path) -> None:
    proxied = ServerProcess(tmp_path / "data", SECRET, "--forwarded-allow-ips", "127.0.0.1")
    proxied.start()
    try:
        register(proxied.url, "proxy-002")
        assert _spoofed_failures(proxied.url, "proxy-002") == [401] * 12
    finally:
        proxied.stop()


def test_f10_a_socket_outlives_the_request_deadlines(server: ServerProcess) -> None:
    """The upgrade request's body looked due to the deadlines, and every
    WebSocket was dropped (no close frame) ``--body-timeout`` seconds after it
    opened: sockets live on past both deadlines, and answer."""
    _, secret = register(server.url, "long-001")
    device = f"ws://127.0.0.1:{server.port}/ws/device?deviceId=long-001&deviceSecret={secret}"
    customer = f"ws://127.0.0.1:{server.port}/ws/customer"
    with (
        connect(device, open_timeout=5) as ws,
        connect(customer, open_timeout=5, additional_headers=bearer()) as watcher,
    ):
        with pytest.raises(TimeoutError):  # three times the deadlines: nothing comes, no close
            ws.recv(timeout=1.5)
        ws.send(json.dumps({"type": "status", "data": {"status": "online"}}))
        assert json.loads(ws.recv(timeout=5))["type"] == "status_ack"
        watcher.send(json.dumps({"type": "subscribe", "deviceId": "long-001"}))
        assert json.loads(watcher.recv(timeout=5))["type"] == "subscribed"


def _raw(server: ServerProcess, *parts: bytes) -> bytes:
    """Send ``parts`` on one connection, then read until the server closes it
    (a server that never does fails the test at the socket's 5 s timeout)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        for part in parts:
            sock.sendall(part)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


AUTH_HEAD = (
    b"POST /api/v1/device/auth HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
)


def test_f10_half_a_request_head_is_timed_out(server: ServerProcess) -> None:
    """Finding 10: 200 connections that sent half a request stayed 90 s."""
    assert _raw(server, AUTH_HEAD) == b""  # closed, no request seen


def test_f10_half_a_head_after_a_whole_request_is_timed_out(server: ServerProcess) -> None:
    whole = b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n"
    received = _raw(server, whole, AUTH_HEAD)
    assert received.startswith(b"HTTP/1.1 200")
    assert received.count(b"HTTP/1.1") == 1


def test_f10_half_a_body_is_timed_out_with_408(server: ServerProcess) -> None:
    received = _raw(server, AUTH_HEAD + b"Content-Length: 100\r\n\r\n" + b'{"deviceId": ')
    assert received.startswith(b"HTTP/1.1 408")
    assert b"REQUEST_TIMEOUT" in received


async def _leave_mid_body(app: Any, path: str, headers: list[tuple[bytes, bytes]]) -> int:
    """The status the app answers a POST whose client leaves mid-body."""
    messages: Iterator[dict[str, Any]] = iter(
        [
            {"type": "http.request", "body": b'{"deviceId": "dev', "more_body": True},
            {"type": "http.disconnect"},
        ]
    )
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8080),
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"100"), *headers],
    }  # fmt: skip
    await app(scope, receive, send)
    return int(sent[0]["status"])


async def test_f10_a_client_leaving_mid_body_is_logged_as_such_not_as_a_500(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Finding 10: a client that disconnects mid-body was a 500 with two
    tracebacks (ClientDisconnect). It is a client going away: 499 in the
    access log, no error logged, nothing raised (the device loop's fast
    lane and the router alike)."""
    async with running_gateway(tmp_path) as gw:
        device = await gw.device("dev-001")
        token = [(b"x-device-token", device["X-Device-Token"].encode())]
        with caplog.at_level(logging.INFO):
            assert await _leave_mid_body(gw.app, "/api/v1/device/auth", []) == 499
            assert await _leave_mid_body(gw.app, "/api/v1/device/heartbeat", token) == 499
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    access = [r.getMessage() for r in caplog.records if r.name == "gateway_server.access"]
    assert [json.loads(line)["status"] for line in access[-2:]] == [499, 499]
