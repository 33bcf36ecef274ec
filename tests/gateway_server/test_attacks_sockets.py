"""Attacks through the WebSockets: a token that expires while its socket is
open, brute force on the device socket's handshake, too many sockets, frames
over the size limit, messages over the caller's rate.

Each test names the finding of issue 16 it closes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect

from gateway_server import GatewayApp, create_app
from tests.gateway_support import Clock, settings


@attrs.define
class Live:
    """The app under a TestClient (sockets), with its clock and helpers."""

    app: GatewayApp
    client: TestClient
    clock: Clock

    def bearer(self, customer: str = "cust-a", ttl: int = 3600) -> dict[str, str]:
        token = self.app.device_gateway.verifier.mint(customer, ttl=ttl)
        return {"Authorization": f"Bearer {token}"}

    def device(self, device_id: str, customer: str = "cust-a") -> str:
        """Provision and register a device; its secret."""
        r = self.client.post(
            "/api/v1/customer/devices/provision",
            json={"deviceId": device_id},
            headers=self.bearer(customer),
        )
        code = r.json()["device"]["activationCode"]
        r = self.client.post(
            "/api/v1/device/register", json={"deviceId": device_id, "activationCode": code}
        )
        return str(r.json()["deviceSecret"])


@pytest.fixture
def live(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Live]:
    overrides: dict[str, Any] = getattr(request, "param", {})
    clock = Clock()
    app = create_app(settings(tmp_path, **overrides), clock=clock)
    with TestClient(app) as client:
        yield Live(app, client, clock)


def test_f8_a_customer_socket_closes_when_its_token_expires(live: Live) -> None:
    """Finding 8: after ``exp`` REST said 401, and the open socket could still
    subscribe and hear events. Its next message now closes it with 1008."""
    live.device("dev-001")
    token = live.app.device_gateway.verifier.mint("cust-a", ttl=60)
    with live.client.websocket_connect(f"/ws/customer?token={token}") as ws:
        ws.send_json({"type": "subscribe", "deviceId": "dev-001"})
        assert ws.receive_json()["type"] == "subscribed"
        live.clock.advance(66)  # past exp and the 5 s leeway
        r = live.client.get(
            "/api/v1/customer/devices", headers={"Authorization": f"Bearer {token}"}
        )
        assert r.status_code == 401
        ws.send_json({"type": "subscribe", "deviceId": "dev-001"})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 1008


@pytest.mark.timeout(30)
def test_f8_an_idle_customer_socket_is_closed_within_a_second_of_exp(live: Live) -> None:
    token = live.app.device_gateway.verifier.mint("cust-a", ttl=60)
    with live.client.websocket_connect(f"/ws/customer?token={token}") as ws:
        live.clock.advance(66)  # past exp and the 5 s leeway
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()  # nothing sent: the server's once-a-second look closes it
    assert closed.value.code == 1008


def _handshake(client: TestClient, path: str, headers: dict[str, str] | None = None) -> int:
    """The HTTP status a WebSocket upgrade gets: 101 (accepted, then closed by
    us), 403 (closed before accepting), or the status of a denial response."""
    try:
        with client.websocket_connect(path, headers=headers or {}) as ws:
            ws.close()
            return 101
    except WebSocketDenialResponse as denied:
        return int(denied.status_code)
    except WebSocketDisconnect as closed:  # closed before accepting: uvicorn answers 403
        return 403 if closed.code == 1008 else closed.code


def test_f5_the_device_socket_shares_the_failure_budget_of_rest(live: Live) -> None:
    """Finding 5: 60 wrong secrets on the device socket in 0.2 s were all
    403, unlimited. Socket failures count in the same budget as REST's; past
    it the upgrade is refused with 429; the right secret still connects."""
    secret = live.device("dev-001")
    tries = [
        _handshake(live.client, f"/ws/device?deviceId=dev-001&deviceSecret=wrong-{i}")
        for i in range(12)
    ]
    assert tries == [403] * 10 + [429] * 2
    r = live.client.post("/api/v1/device/auth", json={"deviceId": "dev-001", "deviceSecret": "x"})
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) >= 1
    with live.client.websocket_connect(f"/ws/device?deviceId=dev-001&deviceSecret={secret}") as ws:
        ws.send_json({"type": "status", "data": {"status": "online"}})
        assert ws.receive_json()["type"] == "status_ack"


@pytest.mark.parametrize("live", [{"max_sockets_per_device": 2}], indirect=True)
def test_f9_a_device_opens_a_bounded_number_of_sockets(live: Live) -> None:
    """Finding 9: one device opened 150 sockets."""
    secret = live.device("dev-001")
    path = f"/ws/device?deviceId=dev-001&deviceSecret={secret}"
    with live.client.websocket_connect(path), live.client.websocket_connect(path):
        assert _handshake(live.client, path) == 429
    assert _handshake(live.client, path) == 101  # closed sockets free their places


@pytest.mark.parametrize("live", [{"max_sockets_per_customer": 2}], indirect=True)
def test_f9_a_customer_opens_a_bounded_number_of_sockets(live: Live) -> None:
    token = live.app.device_gateway.verifier.mint("cust-a")
    path = f"/ws/customer?token={token}"
    with live.client.websocket_connect(path), live.client.websocket_connect(path):
        assert _handshake(live.client, path) == 429
        other = live.app.device_gateway.verifier.mint("cust-b")
        assert _handshake(live.client, f"/ws/customer?token={other}") == 101
    assert _handshake(live.client, path) == 101


@pytest.mark.parametrize("live", [{"customer_rate_per_minute": 5}], indirect=True)
def test_f9_customer_socket_messages_count_against_the_customers_rate(live: Live) -> None:
    """Finding 9: a customer's socket messages were free of its rate limit."""
    live.device("dev-001")  # one request of the five
    token = live.app.device_gateway.verifier.mint("cust-a")
    with live.client.websocket_connect(f"/ws/customer?token={token}") as ws:
        answers = []
        for _ in range(6):
            ws.send_json({"type": "subscribe", "deviceId": "dev-001"})
            answers.append(ws.receive_json())
    assert [a["type"] for a in answers] == ["subscribed"] * 4 + ["error"] * 2
    assert answers[-1]["data"]["code"] == "RATE_LIMITED"
    r = live.client.get("/api/v1/customer/devices", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 429


@pytest.mark.parametrize("live", [{"device_rate_per_minute": 3}], indirect=True)
def test_f9_device_socket_messages_count_against_the_devices_rate(live: Live) -> None:
    secret = live.device("dev-001")
    with live.client.websocket_connect(f"/ws/device?deviceId=dev-001&deviceSecret={secret}") as ws:
        answers = []
        for _ in range(4):
            ws.send_json({"type": "status", "data": {"status": "online"}})
            answers.append(ws.receive_json())
    assert [a["type"] for a in answers] == ["status_ack"] * 3 + ["error"]
    assert answers[-1]["data"]["code"] == "RATE_LIMITED"


def test_f12_system_info_counts_the_callers_own_sockets(live: Live) -> None:
    """Finding 12: system/info showed every customer the server's socket count."""
    mine, theirs = live.app.device_gateway.verifier.mint("cust-a"), live.bearer("cust-b")
    other = theirs["Authorization"].removeprefix("Bearer ")
    with (
        live.client.websocket_connect(f"/ws/customer?token={mine}"),
        live.client.websocket_connect(f"/ws/customer?token={other}"),
        live.client.websocket_connect(f"/ws/customer?token={other}"),
    ):
        info = live.client.get("/api/v1/customer/system/info", headers=live.bearer("cust-a"))
        assert info.json()["services"]["websockets"] == 1
        info = live.client.get("/api/v1/customer/system/info", headers=theirs)
        assert info.json()["services"]["websockets"] == 2


def test_a_nul_character_in_a_socket_message_is_refused_on_every_backend(live: Live) -> None:
    """PostgreSQL's text cannot hold NUL: a device's result carrying one was a
    failed statement there (the socket's message lost, not answered). It is
    refused as an invalid message, naming the field, before any database."""
    secret = live.device("dev-001")
    with live.client.websocket_connect(f"/ws/device?deviceId=dev-001&deviceSecret={secret}") as ws:
        result = {"commandId": "c-1", "claimToken": "t", "status": "success",
                  "executedAt": "2024-06-01T10:00:00Z", "duration": 1, "output": "a\x00b"}  # fmt: skip
        ws.send_json({"type": "command_result", "data": result})
        answer = ws.receive_json()
        assert answer["data"]["code"] == "INVALID_MESSAGE"
        assert "output" in answer["data"]["message"]
        assert "must not contain NUL characters" in answer["data"]["message"]
        ws.send_json({"type": "status", "data": {"status": "online"}})  # the socket lives on
        assert ws.receive_json()["type"] == "status_ack"
