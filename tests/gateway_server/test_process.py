"""The server as a process: killed under load it loses nothing it acknowledged;
asked to stop it drains and closes sockets with 1001."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.http11 import Response
from websockets.sync.client import connect

from gateway_sdk import (
    AsyncCustomerClient,
    AsyncCustomerSubscription,
    ClaimedCommand,
    CommandUpdate,
    CustomerClient,
    DeviceClient,
    SocketEvent,
    WorkerStats,
)
from gateway_sdk._ws import reconnectable
from gateway_server import CustomerVerifier
from tests.gateway_support import RawPeer, ServerProcess, message

SECRET = "process-test-secret-" + "y" * 24


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path / "data", SECRET)
    proc.start()
    yield proc
    proc.stop()


def bearer() -> dict[str, str]:
    return {
        "Authorization": f"Bearer {CustomerVerifier(secret=SECRET, audience='gateway').mint('cust-a')}"
    }


def device_with_session(url: str) -> tuple[str, str]:
    code = httpx.post(
        f"{url}/api/v1/customer/devices/provision", json={"deviceId": "proc-001"}, headers=bearer()
    ).json()
    secret = httpx.post(
        f"{url}/api/v1/device/register",
        json={"deviceId": "proc-001", "activationCode": code["device"]["activationCode"]},
    ).json()["deviceSecret"]
    session = httpx.post(
        f"{url}/api/v1/customer/sessions",
        json={"deviceId": "proc-001", "type": "diagnostic"},
        headers=bearer(),
    )
    return secret, session.json()["session"]["id"]


def test_sigkill_under_load_loses_nothing_acknowledged(server: ServerProcess) -> None:
    _, session = device_with_session(server.url)
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=server.url, headers=bearer(), timeout=5) as client:
            while not stop.is_set():
                try:
                    r = client.post(
                        f"/api/v1/customer/sessions/{session}/commands", json={"type": "job"}
                    )
                except httpx.TransportError:
                    return
                if r.status_code == 201:
                    with lock:
                        acknowledged.append(r.json()["command"]["id"])

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    assert server.proc is not None
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(10)
    stop.set()
    for t in threads:
        t.join(10)
    assert len(acknowledged) > 20

    server.start()  # the same data directory
    ids: set[str] = set()
    while True:  # the session's commands, a page at a time
        page = httpx.get(
            f"{server.url}/api/v1/customer/sessions/{session}",
            params={"offset": len(ids), "limit": 200},
            headers=bearer(),
        ).json()["session"]
        ids |= {c["id"] for c in page["commands"]}
        if len(ids) >= page["commandsTotal"]:
            break
    assert set(acknowledged) <= ids
    integrity = subprocess.run(
        [sys.executable, "-c", f"import sqlite3; print(sqlite3.connect('{server.data_dir / 'gateway.db'}').execute('PRAGMA integrity_check').fetchone()[0])"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert integrity.stdout.strip() == "ok"


def test_a_worker_rides_out_a_server_restart(server: ServerProcess) -> None:
    """The gateway killed while a device worker runs a command, and started again
    a moment later: the worker sends that result again (same token) and goes on
    claiming; every command is done, each exactly once."""
    secret, session = device_with_session(server.url)
    with httpx.Client(base_url=server.url, headers=bearer()) as customer:
        for i in range(10):
            customer.post(f"/api/v1/customer/sessions/{session}/commands", json={"type": f"j{i}"})
    ran: list[str] = []
    running_third = threading.Event()

    def handler(command: ClaimedCommand) -> str:
        ran.append(command.id)
        if len(ran) == 3:
            running_third.set()
            time.sleep(0.5)  # the server goes down meanwhile
        return "done"

    outcome: list[WorkerStats] = []
    # No retries of the client's own: what carries the worker through is its patience.
    with DeviceClient(server.url, "proc-001", secret, max_retries=0) as device:
        worker = threading.Thread(
            target=lambda: outcome.append(
                device.run(
                    handler, visibility_timeout_ms=20_000, poll_interval=0.05,
                    exit_when_idle=True, max_outage=30,
                )
            )
        )  # fmt: skip
        worker.start()
        assert running_third.wait(20)
        server.stop()  # SIGKILL
        time.sleep(0.5)
        server.start()  # the same port and data directory
        worker.join(60)
    (stats,) = outcome
    assert stats.completed == 10
    assert stats.transient_errors >= 1
    assert len(ran) == len(set(ran)) == 10
    stored = httpx.get(f"{server.url}/api/v1/customer/sessions/{session}", headers=bearer()).json()
    assert [c["status"] for c in stored["session"]["commands"]] == ["completed"] * 10


def test_a_reconnecting_subscription_outlives_a_server_restart(server: ServerProcess) -> None:
    _, session = device_with_session(server.url)
    token = bearer()["Authorization"].removeprefix("Bearer ")
    events: list[SocketEvent] = []
    with CustomerClient(server.url, token) as customer:
        feed = customer.subscribe(["proc-001"], reconnect=True, max_outage=30)
        with feed:
            reader = threading.Thread(target=lambda: events.extend(feed))
            reader.start()
            server.stop()  # SIGKILL: the socket drops without a close frame
            time.sleep(0.3)
            server.start()  # the same port and data directory
            deadline = time.monotonic() + 20
            while not any(e.type == "subscribed" for e in events) and time.monotonic() < deadline:
                time.sleep(0.05)  # subscribed again
            command = customer.sessions.enqueue(session, "after-restart")
            while not any(isinstance(e, CommandUpdate) for e in events):
                assert time.monotonic() < deadline, events
                time.sleep(0.05)
        reader.join(10)  # closing the feed ends the iteration
    assert not reader.is_alive()
    kinds = [e.type for e in events]
    assert kinds[:2] == ["reconnected", "subscribed"], kinds
    assert events[0].data == {"deviceIds": ["proc-001"]}
    update = next(e for e in events if isinstance(e, CommandUpdate))
    assert update.data["id"] == command.id


async def test_an_async_reconnecting_subscription_outlives_a_server_restart(
    server: ServerProcess,
) -> None:
    _, session = device_with_session(server.url)
    token = bearer()["Authorization"].removeprefix("Bearer ")
    events: list[SocketEvent] = []
    subscribed_again = asyncio.Event()

    async def read(feed: AsyncCustomerSubscription) -> None:
        async for event in feed:
            events.append(event)
            if event.type == "subscribed":
                subscribed_again.set()
            if isinstance(event, CommandUpdate):
                return

    async with (
        AsyncCustomerClient(server.url, token) as customer,
        customer.subscribe(["proc-001"], reconnect=True, max_outage=30) as feed,
    ):
        reader = asyncio.create_task(read(feed))
        await asyncio.to_thread(server.stop)
        await asyncio.sleep(0.3)
        await asyncio.to_thread(server.start)
        async with asyncio.timeout(20):
            await subscribed_again.wait()
            command = await customer.sessions.enqueue(session, "after-restart")
            await reader
    assert [e.type for e in events][:2] == ["reconnected", "subscribed"]
    assert isinstance(events[-1], CommandUpdate)
    assert events[-1].data["id"] == command.id


def test_only_failures_a_wait_can_mend_are_reconnected() -> None:
    def refused(status: int) -> InvalidStatus:
        return InvalidStatus(Response(status, "", Headers()))

    assert not reconnectable(refused(403))  # the token: waiting will not mend it
    assert reconnectable(refused(503))
    assert reconnectable(ConnectionRefusedError())
    assert reconnectable(TimeoutError())
    assert not reconnectable(ValueError("a bug"))


def sigterm_beside_a_device_socket(server: ServerProcess, secret: str) -> int:
    """SIGTERM while proc-001 has a socket open: the close code the socket got."""
    ws_url = f"ws://127.0.0.1:{server.port}/ws/device?deviceId=proc-001&deviceSecret={secret}"
    with connect(ws_url, open_timeout=5) as ws:
        ws.send('{"type": "status", "data": {"status": "online"}}')
        assert "status_ack" in ws.recv(timeout=5)
        assert server.proc is not None
        server.proc.send_signal(signal.SIGTERM)
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=10)
    assert info.value.rcvd is not None
    return info.value.rcvd.code


def test_sigterm_closes_sockets_with_1001_and_exits(server: ServerProcess) -> None:
    secret, _ = device_with_session(server.url)
    started = time.monotonic()
    assert sigterm_beside_a_device_socket(server, secret) == 1001
    assert server.proc is not None
    # uvicorn finishes its graceful shutdown, then re-raises SIGTERM to exit with it
    assert server.proc.wait(35) in (0, -signal.SIGTERM)
    assert time.monotonic() - started < 30
    stderr = server.proc.stderr.read() if server.proc.stderr else b""
    assert b"Traceback" not in stderr
    assert b"DeprecationWarning" not in stderr  # websockets-sansio, not the deprecated one


def test_sigterm_closes_the_sockets_beside_one_that_stopped_reading(tmp_path: Path) -> None:
    # A peer that stopped reading cannot take its close frame; the others get
    # theirs and the server exits all the same.
    server = ServerProcess(
        tmp_path / "data", SECRET, "--ws-send-queue", "10000", "--drain-seconds", "3"
    )
    server.start()
    try:
        secret, session = device_with_session(server.url)
        token = CustomerVerifier(secret=SECRET, audience="gateway").mint("cust-a")
        customer_url = f"ws://127.0.0.1:{server.port}/ws/customer?token={token}"
        stalled = RawPeer(customer_url, receive_buffer=4096)
        stalled.send({"type": "subscribe", "deviceId": "proc-001"})
        frame = stalled.next_frame()
        assert frame is not None
        assert message(frame)["type"] == "subscribed"
        auth = httpx.post(f"{server.url}/api/v1/device/auth",
                          json={"deviceId": "proc-001", "deviceSecret": secret}).json()  # fmt: skip
        device = {"X-Device-Token": auth["token"]}
        with httpx.Client(base_url=server.url) as http:
            for _ in range(12):  # about 11 MB of updates: past every buffer on the way
                http.post(f"/api/v1/customer/sessions/{session}/commands", json={"type": "job"},
                          headers=bearer())  # fmt: skip
                (claimed,) = http.post("/api/v1/device/commands/claim", json={},
                                       headers=device).json()["commands"]  # fmt: skip
                result = {"claimToken": claimed["claimToken"], "status": "success",
                          "executedAt": "2024-06-01T10:00:00Z", "duration": 1.0,
                          "output": "x" * 900_000}  # fmt: skip
                answer = http.post(f"/api/v1/device/commands/{claimed['id']}/result",
                                   json=result, headers=device)  # fmt: skip
                assert answer.status_code == 200
        assert sigterm_beside_a_device_socket(server, secret) == 1001
        assert server.proc is not None
        assert server.proc.wait(60) in (0, -signal.SIGTERM)
        stalled.close()
    finally:
        server.stop()
