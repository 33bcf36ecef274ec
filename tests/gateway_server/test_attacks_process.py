"""Attacks on the server as `gateway-server serve` runs it (uvicorn, a real
socket on 127.0.0.1): what it logs, whom it believes about the client's
address, clients that send half a request, frames over the size limit.

Each test names the finding of issue 16 it closes."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from gateway_server import CustomerVerifier
from tests.gateway_support import ServerProcess

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
    """One server for the tests that need no log of their own: small bodies."""
    data = tmp_path_factory.mktemp("attacks")
    proc = ServerProcess(data / "data", SECRET, "--max-body-bytes", str(MAX_BODY))
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
