"""Over a real socket: uvicorn on 127.0.0.1, REST and WebSockets."""

from __future__ import annotations

import time

import pytest
from starlette.applications import Starlette
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from gateway_sdk import (
    CommandAvailable,
    CommandUpdate,
    CustomerClient,
    DeviceClient,
    DeviceStatusEvent,
)
from tests.gateway_sdk.conftest import checked
from tests.gateway_support import customer_token
from tests.support import LocalServer

Live = tuple[LocalServer, Starlette]


def setup(live: Live, device_id: str, who: str = "cust-a") -> tuple[CustomerClient, DeviceClient]:
    """A customer and its registered device over the socket, their exchanges contract-checked."""
    server, app = live
    cust = CustomerClient(server.url, customer_token(app, who), http_client=checked())
    code = cust.devices.provision(device_id).activation_code
    device = DeviceClient(server.url, device_id, http_client=checked())
    device.register(code)
    return cust, device


def test_worker_over_a_real_socket(live: Live) -> None:
    cust, device = setup(live, "live-001")
    session = cust.sessions.create("live-001")
    for i in range(5):
        cust.sessions.enqueue(session.id, f"job_{i}", priority=i % 2)
    stats = device.run(lambda c: c.type.upper(), visibility_timeout_ms=10_000, exit_when_idle=True)
    assert stats.completed == 5
    assert {c.result["output"] for c in cust.sessions.get(session.id).commands} == {
        f"JOB_{i}" for i in range(5)
    }


def test_device_socket_hears_of_commands_and_sends_results(live: Live) -> None:
    cust, device = setup(live, "live-002")
    session = cust.sessions.create("live-002", "remediation")
    with device.socket() as ws:
        time.sleep(0.2)
        held = cust.sessions.enqueue(session.id, "reboot")
        cust.sessions.approve(session.id, held.id)  # claimable only now
        event = ws.receive(timeout=5)
        assert isinstance(event, CommandAvailable)
        assert event.data["id"] == held.id
        (claimed,) = device.claim()
        ws.send_result(
            claimed.id,
            claimed.claim_token,
            "success",
            executed_at="2024-06-01T10:00:00Z",
            duration=0.1,
            output="rebooted",
        )
        ack = ws.receive(timeout=5)
        assert ack.type == "command_result_ack"
        assert ack.data["success"] is True
        ws.send_status("busy")
        assert ws.receive(timeout=5).type == "status_ack"
    assert cust.sessions.get(session.id).commands[0].result["output"] == "rebooted"
    assert cust.devices.status("live-002").status == "busy"


def test_device_socket_is_told_on_connecting_what_is_claimable_already(live: Live) -> None:
    cust, device = setup(live, "live-021")
    session = cust.sessions.create("live-021")
    low = cust.sessions.enqueue(session.id, "low")
    high = cust.sessions.enqueue(session.id, "high", priority=5)
    (taken,) = device.claim(visibility_timeout_ms=60_000)  # under a live claim: not claimable
    assert taken.id == high.id
    third = cust.sessions.enqueue(session.id, "third")
    with device.socket() as ws:
        told = [ws.receive(timeout=5), ws.receive(timeout=5)]
        assert all(isinstance(event, CommandAvailable) for event in told)
        assert [event.data["id"] for event in told] == [low.id, third.id]  # in claim order


def test_device_socket_is_told_when_a_claim_runs_out(live: Live) -> None:
    cust, device = setup(live, "live-022")
    session = cust.sessions.create("live-022")
    with device.socket() as ws:
        time.sleep(0.2)
        command = cust.sessions.enqueue(session.id, "job")
        assert ws.receive(timeout=5).data["id"] == command.id
        (claimed,) = device.claim(visibility_timeout_ms=1000)  # then abandoned
        started = time.monotonic()
        again = ws.receive(timeout=5)  # claimable again: the device hears of it
        assert isinstance(again, CommandAvailable)
        assert again.data["id"] == command.id
        assert time.monotonic() - started >= 0.9
        (reclaimed,) = device.claim()
        assert reclaimed.id == command.id
        assert reclaimed.claim_token != claimed.claim_token


def test_customer_subscription_sees_status_and_command_updates(live: Live) -> None:
    cust, device = setup(live, "live-003")
    session = cust.sessions.create("live-003")
    with cust.subscribe(["live-003"]) as feed:
        device.heartbeat("online", metrics={"cpu": 0.5, "memory": 0.5, "uptime": 1})
        status = feed.receive(timeout=5)
        assert isinstance(status, DeviceStatusEvent)
        assert status.device_id == "live-003"
        command = cust.sessions.enqueue(session.id, "ping")
        queued = feed.receive(timeout=5)
        assert isinstance(queued, CommandUpdate)
        assert (queued.command_id, queued.status) == (command.id, "pending")
        (claimed,) = device.claim()
        taken = feed.receive(timeout=5)
        assert isinstance(taken, CommandUpdate)
        assert (taken.command_id, taken.status) == (command.id, "claimed")
        device.complete(claimed, output="pong")
        done = feed.receive(timeout=5)
        assert isinstance(done, CommandUpdate)
        assert done.status == "completed"


def test_customer_subscription_sees_a_claim_run_out(live: Live) -> None:
    cust, device = setup(live, "live-023")
    session = cust.sessions.create("live-023")
    with cust.subscribe(["live-023"]) as feed:
        command = cust.sessions.enqueue(session.id, "job")
        device.claim(visibility_timeout_ms=1000)  # and abandoned
        updates = [feed.receive(timeout=5) for _ in range(3)]  # the last within ~1 s of expiry
        assert all(isinstance(u, CommandUpdate) and u.command_id == command.id for u in updates)
        assert [u.status for u in updates if isinstance(u, CommandUpdate)] == [
            "pending",
            "claimed",
            "pending",
        ]


def test_customer_cannot_subscribe_to_another_customers_device(live: Live) -> None:
    setup(live, "live-004", who="cust-a")
    server, app = live
    intruder = CustomerClient(server.url, customer_token(app, "cust-b"), http_client=checked())
    with intruder.subscribe() as feed:
        answer = feed.subscribe("live-004")
        assert answer.type == "error"
        assert answer.data["code"] == "FORBIDDEN"


def test_sockets_refuse_bad_credentials(live: Live) -> None:
    server, _ = live
    base = server.url.replace("http://", "ws://")
    for url in (
        f"{base}/ws/device?deviceId=live-404&deviceSecret=nope",
        f"{base}/ws/customer?token=garbage",
    ):
        # closed before the handshake completes: uvicorn answers the upgrade with 403
        with pytest.raises(InvalidStatus) as info, connect(url, open_timeout=5) as ws:
            ws.recv(timeout=5)
        assert info.value.response.status_code == 403


def test_socket_messages_are_rate_limited(live: Live) -> None:
    cust, _ = setup(live, "live-005")
    _server, _app = live
    with cust.subscribe() as feed:
        for _ in range(15):
            feed.send({"type": "subscribe", "deviceId": "live-005"})
        answers = [feed.receive(timeout=5) for _ in range(15)]
    limited = [a for a in answers if a.type == "error" and a.data["code"] == "RATE_LIMITED"]
    assert len(limited) >= 4
    assert sum(a.type == "subscribed" for a in answers) <= 10


def test_socket_rejects_malformed_messages(live: Live) -> None:
    cust, _ = setup(live, "live-006")
    with cust.subscribe() as feed:
        feed._conn.send("not json")  # type: ignore[union-attr]
        assert feed.receive(timeout=5).data["code"] == "INVALID_MESSAGE"
        feed.send({"type": "dance"})
        assert feed.receive(timeout=5).data["code"] == "INVALID_MESSAGE"


def test_binary_and_oversized_junk_frames_get_an_error_not_a_crash(live: Live) -> None:
    cust, _ = setup(live, "live-007")
    with cust.subscribe() as feed:
        feed._conn.send(b"\xff\xfe not json")  # type: ignore[union-attr]
        assert feed.receive(timeout=5).data["code"] == "INVALID_MESSAGE"
        feed._conn.send(b'{"type": "subscribe", "deviceId": "live-007"}')  # type: ignore[union-attr]
        assert feed.receive(timeout=5).type == "subscribed"


def test_device_socket_status_is_validated_like_a_heartbeat(live: Live) -> None:
    cust, device = setup(live, "live-008")
    with device.socket() as ws:
        ws.send_status("online", metrics={"cpu": "hot", "memory": 1, "uptime": 1})
        assert ws.receive(timeout=5).data["code"] == "INVALID_MESSAGE"
        ws._conn.send(  # type: ignore[union-attr]
            '{"type": "status", "data": {"status": "online", "diagnostics": {"t": Infinity}}}'
        )
        assert ws.receive(timeout=5).data["code"] == "INVALID_MESSAGE"
        ws._conn.send(  # type: ignore[union-attr]
            '{"type": "status", "data": {"status": "busy", "metrics": {"cpu": 1e400,'
            ' "memory": 0, "uptime": 0}}}'
        )
        assert ws.receive(timeout=5).data["code"] == "INVALID_MESSAGE"
        ws.send_status("busy", metrics={"cpu": 0.5, "memory": 0.25, "uptime": 9})
        assert ws.receive(timeout=5).type == "status_ack"
    status = cust.devices.status("live-008")
    assert status.status == "busy"
    assert status.metrics == {"cpu": 0.5, "memory": 0.25, "uptime": 9.0}


def test_conventions_over_a_real_socket(live: Live) -> None:
    """A per-call timeout as the socket sees it, a typed raw response with the
    gateway's headers, and pages fetched one by one (the customer's own devices only)."""
    cust, device = setup(live, "live-031", who="cust-pages")
    for i in range(2, 5):
        cust.devices.provision(f"live-03{i}")
    raw = device.with_raw_response.heartbeat(timeout=2.5, extra_headers={"X-Request-ID": "live-r1"})
    assert raw.http_request.extensions["timeout"]["read"] == 2.5
    assert (raw.request_id, raw.parse().success) == ("live-r1", True)
    assert raw.rate_limit.remaining is not None
    first = cust.devices.list(page_size=3)
    assert (first.total, [len(p) for p in first.iter_pages()]) == (4, [3, 1])
    assert [d.id for d in first] == [f"live-03{i}" for i in range(1, 5)]
