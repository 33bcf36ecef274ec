"""DeviceClient.run against the real gateway in-process: claims kept alive,
results sent safely, outages waited out on the client's clock (the worker's
decisions alone are test_worker_state.py).

The keeper tests keep real time: the keeper is a timer running beside the
handler, and the gateway's claims expire on the same clock it waits on."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from gateway_sdk import (
    APIConnectionError,
    AsyncDeviceClient,
    AuthenticationError,
    ClaimedCommand,
    DeviceClient,
)
from gateway_server import create_app
from tests.gateway_sdk.clients import (
    customer,
    device_and_rival,
    registered,
    three_queued,
    worker_behind,
)
from tests.gateway_sdk.conftest import BASE, FAST, achecked, checked
from tests.gateway_support import settings
from tests.support import FakeClock


def test_run_extends_the_claim_while_the_handler_runs(app: Starlette, http: TestClient) -> None:
    cust, device, rival, session = device_and_rival(app, http, "slow_job")
    stolen: list[list[ClaimedCommand]] = []

    def handler(command: ClaimedCommand) -> dict[str, Any]:
        for _ in range(5):  # 2.5 s of work against a 1.5 s visibility timeout
            time.sleep(0.5)
            stolen.append(rival.claim(visibility_timeout_ms=30_000))
        return {"bytes": 42}

    stats = device.run(handler, visibility_timeout_ms=1500, max_commands=1)
    assert stats.completed == 1
    assert all(claimed == [] for claimed in stolen)  # nobody else could take it meanwhile
    result = cust.sessions.get(session.id).commands[0]
    assert result.status == "completed"
    assert result.result["output"] == '{"bytes": 42}'


def test_run_keeps_a_whole_batch_claimed_while_it_works_through_it(
    app: Starlette, http: TestClient
) -> None:
    cust, device, rival, session = device_and_rival(app, http, "first", "second", "third")
    ran: list[str] = []
    stolen: list[list[ClaimedCommand]] = []

    def handler(command: ClaimedCommand) -> str:
        # three of these outlast the batch's 3 s visibility timeout; the claims are extended
        # every second, so a late extension (a loaded machine) has two seconds to spare
        time.sleep(1.2)
        stolen.append(rival.claim(visibility_timeout_ms=30_000))
        ran.append(command.type)
        return command.type

    stats = device.run(handler, limit=3, visibility_timeout_ms=3000, max_commands=3)
    assert ran == ["first", "second", "third"]
    assert (stats.completed, stats.lost) == (3, 0)
    assert all(claimed == [] for claimed in stolen)  # the waiting ones were held too
    assert {c.status for c in cust.sessions.get(session.id).commands} == {"completed"}


async def test_async_run_keeps_a_whole_batch_claimed(app: Starlette) -> None:
    async with three_queued(app) as (cust, device, rival, session):
        stolen: list[list[ClaimedCommand]] = []

        async def handler(command: ClaimedCommand) -> str:
            await asyncio.sleep(1.2)  # as above: 3.6 s of work against a 3 s timeout
            stolen.append(await rival.claim(visibility_timeout_ms=30_000))
            return command.type

        stats = await device.run(handler, limit=3, visibility_timeout_ms=3000, max_commands=3)
        assert (stats.completed, stats.lost) == (3, 0)
        assert all(claimed == [] for claimed in stolen)
        commands = (await cust.sessions.get(session.id)).commands
        assert sorted(c.result["output"] for c in commands) == ["first", "second", "third"]


class CutExtensions(httpx.BaseTransport):
    """A link on which the extensions of one command are lost until ``heal``."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.command_id = ""
        self.cut = True

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.cut and request.url.path.endswith(f"/{self.command_id}/extend"):
            raise httpx.ConnectError("link down", request=request)
        return self.inner.handle_request(request)


def test_run_does_not_run_a_command_whose_claim_was_lost_while_it_waited(
    app: Starlette, http: TestClient
) -> None:
    cust, device, rival, session = device_and_rival(app, http)
    cust.sessions.enqueue(session.id, "head", priority=5)
    waiting = cust.sessions.enqueue(session.id, "tail")
    link = CutExtensions(http._transport)
    link.command_id = waiting.id
    ran: list[str] = []

    def handler(command: ClaimedCommand) -> None:
        ran.append(command.type)
        time.sleep(1.5)  # the tail's claim (1 s, never extended) runs out meanwhile
        taken = rival.claim(visibility_timeout_ms=30_000)
        assert [c.id for c in taken] == [waiting.id]
        rival.complete(taken[0], output="done by the rival")
        link.cut = False  # the next extension reaches the server: refused, the claim is gone
        time.sleep(0.8)

    with checked(transport=link, base_url=BASE) as flaky:
        worker = DeviceClient(
            BASE, "dev-001", device.secret_store.load(), http_client=flaky, sleep=lambda s: None
        )
        stats = worker.run(handler, limit=2, visibility_timeout_ms=1000, max_commands=2)
    assert ran == ["head"]  # the tail was not run a second time
    assert (stats.completed, stats.lost) == (1, 1)
    outputs = {c.type: c.result["output"] for c in cust.sessions.get(session.id).commands}
    assert outputs == {"head": None, "tail": "done by the rival"}


def test_run_never_claims_more_than_max_commands_leaves_room_for(
    app: Starlette, http: TestClient
) -> None:
    _, device, _, _ = device_and_rival(app, http, *(f"job_{i}" for i in range(5)))
    stats = device.run(lambda c: None, limit=4, visibility_timeout_ms=60_000, max_commands=2)
    assert stats.completed == 2
    # the three left are claimable at once, not held by a claim the worker will never use
    assert len(device.claim(limit=10)) == 3


def test_a_stopped_worker_hands_back_the_commands_it_had_not_started(
    clocked: tuple[Starlette, TestClient], clock: FakeClock
) -> None:
    app, http = clocked
    _, device, rival, _ = device_and_rival(app, http, "first", "second", "third", clock=clock)
    stop = threading.Event()
    ran: list[str] = []

    def handler(command: ClaimedCommand) -> str:
        ran.append(command.type)
        stop.set()  # say, SIGTERM arrives while the first command of the batch runs
        return "ok"

    stats = device.run(handler, limit=3, visibility_timeout_ms=60_000, stop=stop)
    assert ran == ["first"]
    assert stats.completed == 1
    clock.advance(0.01)  # handed back with a 1 ms extension: claimable now, not in 60 s
    taken = rival.claim(limit=10, visibility_timeout_ms=60_000)
    assert sorted(c.type for c in taken) == ["second", "third"]


async def test_a_stopped_async_worker_hands_back_the_commands_it_had_not_started(
    tmp_path: Path, clock: FakeClock
) -> None:
    app = create_app(settings(tmp_path, **FAST), clock=clock.time)
    async with three_queued(app) as (_, device, _, _):
        stop = asyncio.Event()

        async def handler(command: ClaimedCommand) -> str:
            stop.set()
            return command.type

        stats = await device.run(handler, limit=3, visibility_timeout_ms=60_000, stop=stop)
        assert stats.completed == 1
        clock.advance(0.01)
        assert len(await device.claim(limit=10)) == 2


def test_run_reports_handler_failures(app: Starlette, http: TestClient) -> None:
    cust = customer(app, http)
    device = registered(app, http, "dev-001")
    session = cust.sessions.create("dev-001")
    cust.sessions.enqueue(session.id, "boom")

    def handler(command: ClaimedCommand) -> None:
        raise RuntimeError("disk on fire")

    stats = device.run(handler, visibility_timeout_ms=5000, exit_when_idle=True)
    assert (stats.completed, stats.failed) == (0, 1)
    result = cust.sessions.get(session.id).commands[0].result
    assert result["status"] == "failure"
    assert result["error"] == "RuntimeError: disk on fire"


class LoseFirstAnswer(httpx.BaseTransport):
    """Delivers every request, but the first answer to a result submission is
    lost on the way back (the server did record it)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.lost = 0
        self.results = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path.endswith("/result"):
            self.results += 1
            if self.lost == 0:
                self.lost += 1
                response.read()
                raise httpx.ReadTimeout("answer lost", request=request)
        return response


def test_result_submission_is_retried_safely_after_a_network_failure(
    app: Starlette, http: TestClient
) -> None:
    cust = customer(app, http)
    device = registered(app, http, "dev-001")
    session = cust.sessions.create("dev-001")
    cust.sessions.enqueue(session.id, "once")
    flaky = LoseFirstAnswer(http._transport)
    with checked(transport=flaky, base_url=BASE) as lossy:
        worker = DeviceClient(
            BASE, "dev-001", device.secret_store.load(), http_client=lossy, sleep=lambda s: None
        )
        stats = worker.run(lambda c: "done", visibility_timeout_ms=10_000, exit_when_idle=True)
    assert stats.completed == 1
    assert stats.submit_errors == 0
    assert (flaky.lost, flaky.results) == (1, 2)  # sent twice with the same token, recorded once
    assert cust.sessions.get(session.id).commands[0].status == "completed"


class Outage(httpx.BaseTransport):
    """The gateway unreachable (connection refused, nothing sent) for the next
    ``failures`` requests whose path ends with ``path``; the rest go through."""

    def __init__(self, inner: httpx.BaseTransport, path: str, failures: int) -> None:
        self.inner, self.path, self.failures = inner, path, failures

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(self.path) and self.failures > 0:
            self.failures -= 1
            raise httpx.ConnectError("connection refused", request=request)
        return self.inner.handle_request(request)


class AsyncOutage(httpx.AsyncBaseTransport):
    """:class:`Outage` for async clients."""

    def __init__(self, inner: httpx.AsyncBaseTransport, path: str, failures: int) -> None:
        self.inner, self.path, self.failures = inner, path, failures

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(self.path) and self.failures > 0:
            self.failures -= 1
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


def test_run_waits_out_a_gateway_it_cannot_reach(app: Starlette, http: TestClient) -> None:
    cust, device, _, session = device_and_rival(app, http, "first", "second")
    # each claim call tries twice (one retry of its own): three calls fail
    worker = worker_behind(device, Outage(http._transport, "/claim", 6), max_retries=1)
    stats = worker.run(lambda c: "done", poll_interval=0.01, exit_when_idle=True)
    assert (stats.completed, stats.transient_errors) == (2, 3)
    assert [c.status for c in cust.sessions.get(session.id).commands] == ["completed"] * 2


def test_a_result_is_sent_again_while_its_claim_lives(app: Starlette, http: TestClient) -> None:
    cust, device, _, session = device_and_rival(app, http, "once")
    worker = worker_behind(device, Outage(http._transport, "/result", 3))
    stats = worker.run(lambda c: "done", poll_interval=0.01, exit_when_idle=True)
    assert (stats.completed, stats.transient_errors, stats.submit_errors) == (1, 3, 0)
    (command,) = cust.sessions.get(session.id).commands
    assert (command.status, command.claim_count) == ("completed", 1)  # ran once


def test_a_result_is_given_up_once_its_claim_may_be_gone(
    app: Starlette, http: TestClient, clock: FakeClock
) -> None:
    cust, device, _, session = device_and_rival(app, http, "once")
    worker = worker_behind(device, Outage(http._transport, "/result", 10**6), clock=clock)
    started = clock.monotonic()
    stats = worker.run(
        lambda c: "done", visibility_timeout_ms=1000, poll_interval=0.01, max_commands=1
    )
    assert clock.monotonic() - started < 1.5  # not past the claim's second
    assert sum(clock.sleeps) < 1.0  # every resend was due before the claim could end
    assert (stats.completed, stats.submit_errors) == (0, 1)
    assert stats.transient_errors >= 1
    assert cust.sessions.get(session.id).commands[0].status in ("claimed", "pending")


def test_run_gives_up_after_max_outage(app: Starlette, http: TestClient, clock: FakeClock) -> None:
    device = registered(app, http, "dev-001")
    outage = Outage(http._transport, "/claim", 10**6)
    worker = worker_behind(device, outage, clock=clock, rand=lambda: 1.0)  # no jitter
    started = clock.monotonic()
    with pytest.raises(APIConnectionError):
        worker.run(lambda c: None, poll_interval=0.01, max_outage=0.3)
    assert 0.3 <= clock.monotonic() - started < 2
    assert clock.sleeps == [0.05, 0.1, 0.2]  # from the 50 ms floor, doubling; then 0.35 s out


def test_run_raises_what_waiting_cannot_mend_at_once(
    app: Starlette, http: TestClient, clock: FakeClock
) -> None:
    registered(app, http, "dev-001")
    wrong = DeviceClient(
        BASE, "dev-001", "not-the-secret", http_client=http, clock=clock, sleep=clock.sleep
    )
    started = clock.monotonic()
    with pytest.raises(AuthenticationError):
        wrong.run(lambda c: None, poll_interval=0.01)
    assert clock.monotonic() - started < 1
    assert clock.sleeps == []


async def test_async_run_waits_out_claims_and_results_that_fail(
    app: Starlette, clock: FakeClock
) -> None:
    async with three_queued(app) as (cust, device, _, session):
        outage = AsyncOutage(httpx.ASGITransport(app=app), "/claim", 2)
        results = AsyncOutage(outage, "/result", 2)
        async with achecked(transport=results, base_url=BASE) as http:
            secret = device.secret_store.load()
            worker = AsyncDeviceClient(
                BASE, "dev-001", secret, http_client=http, max_retries=0,
                clock=clock, sleep=clock.async_sleep,
            )  # fmt: skip
            stats = await worker.run(lambda c: "done", poll_interval=0.01, exit_when_idle=True)
        assert (stats.completed, stats.transient_errors, stats.submit_errors) == (3, 4, 0)
        commands = (await cust.sessions.get(session.id)).commands
        assert [(c.status, c.claim_count) for c in commands] == [("completed", 1)] * 3
        assert len(clock.sleeps) == 4  # the worker's waits, on the client's clock


def test_stop_event_ends_the_worker(app: Starlette, http: TestClient, clock: FakeClock) -> None:
    secret = registered(app, http, "dev-001").secret_store.load()
    stop = threading.Event()
    started = clock.monotonic()

    def sleep(seconds: float) -> None:  # the signal comes 0.3 s into the run
        clock.sleep(seconds)
        if clock.monotonic() - started >= 0.3:
            stop.set()

    device = DeviceClient(BASE, "dev-001", secret, http_client=http, clock=clock, sleep=sleep)
    stats = device.run(lambda c: None, poll_interval=0.1, stop=stop)
    assert clock.monotonic() - started < 5
    assert stats.completed == 0
