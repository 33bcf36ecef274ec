"""DeviceClient against the real gateway in-process: register, auth, queue, worker."""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from gateway_sdk import (
    APIConnectionError,
    AsyncCustomerClient,
    AsyncDeviceClient,
    AuthenticationError,
    ClaimedCommand,
    ConflictError,
    CustomerClient,
    DeviceClient,
    FileSecretStore,
    InputValidationError,
    PermissionDeniedError,
    SecretNotSavedError,
    Session,
    WorkerStats,
)
from gateway_sdk._device import _patience_wait
from gateway_sdk._patience import Patience
from sdk_core import RetryPolicy, make_status_error
from tests.gateway_support import api, customer_token

BASE = "http://gateway.test"


def customer(app: Starlette, http: TestClient, who: str = "cust-a") -> CustomerClient:
    return CustomerClient(BASE, customer_token(app, who), http_client=http)


def registered(
    app: Starlette, http: TestClient, device_id: str, tmp_path: Path | None = None
) -> DeviceClient:
    code = customer(app, http).devices.provision(device_id).activation_code
    store = FileSecretStore(tmp_path / f"{device_id}.secret") if tmp_path else None
    device = DeviceClient(BASE, device_id, secret_store=store, http_client=http)
    device.register(code, location="rack 4", model="edge-1")
    return device


def device_and_rival(
    app: Starlette, http: TestClient, *queued: str
) -> tuple[CustomerClient, DeviceClient, DeviceClient, Session]:
    """A customer, its registered device, a second client of that device, and a
    session with the commands ``queued`` enqueued, in that order."""
    cust = customer(app, http)
    device = registered(app, http, "dev-001")
    rival = DeviceClient(BASE, "dev-001", device.secret_store.load(), http_client=http)
    session = cust.sessions.create("dev-001")
    for name in queued:
        cust.sessions.enqueue(session.id, name)
    return cust, device, rival, session


@contextlib.asynccontextmanager
async def three_queued(
    app: Starlette,
) -> AsyncIterator[tuple[AsyncCustomerClient, AsyncDeviceClient, AsyncDeviceClient, Session]]:
    """The app in-process (lifespan running) behind async clients: a customer, its
    registered device, a second client of that device, and a session with three
    commands queued (first, second, third)."""
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http,
    ):
        cust = AsyncCustomerClient(BASE, customer_token(app, "cust-a"), http_client=http)
        code = (await cust.devices.provision("dev-001")).activation_code
        device = AsyncDeviceClient(BASE, "dev-001", http_client=http)
        await device.register(code)
        rival = AsyncDeviceClient(BASE, "dev-001", device.secret_store.load(), http_client=http)
        session = await cust.sessions.create("dev-001")
        for name in ("first", "second", "third"):
            await cust.sessions.enqueue(session.id, name)
        yield cust, device, rival, session


def test_register_keeps_the_secret_where_told(
    app: Starlette, http: TestClient, tmp_path: Path
) -> None:
    device = registered(app, http, "dev-001", tmp_path)
    path = tmp_path / "dev-001.secret"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(path.read_text()) >= 43
    secret = path.read_text()
    assert secret not in repr(device.secret_store)
    assert secret not in repr(device.auth)
    # a new process of the device finds it there
    again = DeviceClient(BASE, "dev-001", secret_store=FileSecretStore(path), http_client=http)
    assert again.heartbeat().success


def test_the_secret_is_on_disk_before_it_replaces_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "dev-001.secret"
    events: list[str] = []
    fsync, replace = os.fsync, os.replace

    def recorded_fsync(fd: int) -> None:
        events.append("fsync dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        fsync(fd)

    def recorded_replace(src: str, dst: Path) -> None:
        events.append("replace")
        replace(src, dst)

    monkeypatch.setattr(os, "fsync", recorded_fsync)
    monkeypatch.setattr(os, "replace", recorded_replace)
    FileSecretStore(path).save("s3cret")
    assert events == ["fsync file", "replace", "fsync dir"]
    assert path.read_text() == "s3cret"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_a_failed_save_keeps_the_old_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileSecretStore(tmp_path / "dev-001.secret")
    store.save("old")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        store.save("new")
    assert store.load() == "old"
    assert list(tmp_path.iterdir()) == [store.path]


class BrokenStore:
    """A secret store whose disk is full."""

    def load(self) -> str | None:
        return None

    def save(self, secret: str) -> None:
        raise OSError(28, "No space left on device")


def test_a_secret_the_store_cannot_keep_is_handed_to_the_caller(
    app: Starlette, http: TestClient
) -> None:
    code = customer(app, http).devices.provision("dev-001").activation_code
    device = DeviceClient(BASE, "dev-001", secret_store=BrokenStore(), http_client=http)
    with pytest.raises(SecretNotSavedError) as caught:
        device.register(code)
    error = caught.value
    assert isinstance(error.__cause__, OSError)
    assert error.device_id == "dev-001"
    secret = error.secret.reveal()
    assert secret not in repr(error)
    assert secret not in str(error)
    # the code is spent; the secret on the error is the only way in, and it works
    with pytest.raises(ConflictError):
        DeviceClient(BASE, "dev-001", http_client=http).register(code)
    assert DeviceClient(BASE, "dev-001", secret, http_client=http).heartbeat().success


async def test_async_register_hands_over_a_secret_the_store_cannot_keep(app: Starlette) -> None:
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http,
    ):
        cust = AsyncCustomerClient(BASE, customer_token(app, "cust-a"), http_client=http)
        code = (await cust.devices.provision("dev-001")).activation_code
        device = AsyncDeviceClient(BASE, "dev-001", secret_store=BrokenStore(), http_client=http)
        with pytest.raises(SecretNotSavedError) as caught:
            await device.register(code)
        secret = caught.value.secret.reveal()
        assert (
            await AsyncDeviceClient(BASE, "dev-001", secret, http_client=http).heartbeat()
        ).success


def test_an_empty_activation_code_is_refused_before_sending() -> None:
    def no_network(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"sent {request.method} {request.url}")

    http = httpx.Client(transport=httpx.MockTransport(no_network))
    device = DeviceClient(BASE, "dev-001", http_client=http)
    with pytest.raises(InputValidationError) as caught:
        device.register("")
    assert caught.value.field == "activation_code"


def test_heartbeat_claim_extend_complete(app: Starlette, http: TestClient) -> None:
    cust = customer(app, http)
    device = registered(app, http, "dev-001")
    session = cust.sessions.create("dev-001")
    ids = [
        cust.sessions.enqueue(session.id, f"task_{i}", {"i": i}, priority=i).id for i in range(3)
    ]
    beat = device.heartbeat("online", metrics={"cpu": 0.2, "memory": 0.3, "uptime": 50})
    assert beat.pending_commands == 3
    commands = device.claim(2, visibility_timeout_ms=30_000)
    assert [c.type for c in commands] == ["task_2", "task_1"]
    assert commands[0].parameters == {"i": 2}
    until = device.extend(commands[0], extension_ms=120_000)
    assert until > commands[0].visible_until
    done = device.complete(commands[0], output="ok", duration=1.25)
    assert done.success
    assert done.next_command_id == ids[0]
    assert device.complete(commands[0], output="ok", duration=1.25).success  # the same token again
    history = cust.sessions.get(session.id)
    assert {c.type: c.status for c in history.commands} == {
        "task_0": "pending",
        "task_1": "claimed",
        "task_2": "completed",
    }
    assert "claim_token" not in repr(commands[0])


def test_transparent_reauth_when_the_token_is_revoked(app: Starlette, http: TestClient) -> None:
    device = registered(app, http, "dev-001")
    device.heartbeat()

    http.portal.call(api(app).devices.revoke_tokens, "dev-001")  # type: ignore[union-attr]
    assert device.heartbeat().success  # 401 -> new token -> replay


def test_wrong_secret_is_an_authentication_error(app: Starlette, http: TestClient) -> None:
    registered(app, http, "dev-001")
    impostor = DeviceClient(BASE, "dev-001", "not-the-secret", http_client=http)
    with pytest.raises(AuthenticationError):
        impostor.heartbeat()


def test_input_checked_before_sending(app: Starlette, http: TestClient) -> None:
    device = DeviceClient(BASE, "dev-001", "s", http_client=http)
    with pytest.raises(InputValidationError, match="limit"):
        device.claim(11)
    with pytest.raises(InputValidationError, match="visibility"):
        device.claim(1, visibility_timeout_ms=10)
    with pytest.raises(InputValidationError, match="status"):
        device.heartbeat("sleeping")  # type: ignore[arg-type]
    with pytest.raises(InputValidationError, match="metrics"):
        device.heartbeat(metrics={"cpu": 1})


def test_expired_claims_token_is_refused_and_another_claim_wins(
    app: Starlette, http: TestClient
) -> None:
    cust = customer(app, http)
    device = registered(app, http, "dev-001")
    session = cust.sessions.create("dev-001")
    cust.sessions.enqueue(session.id, "x")
    (first,) = device.claim(visibility_timeout_ms=1000)
    time.sleep(1.1)
    (second,) = device.claim(visibility_timeout_ms=30_000)
    assert second.id == first.id
    with pytest.raises(PermissionDeniedError):
        device.extend(first, extension_ms=1000)
    device.complete(second, output="ok")
    with pytest.raises(ConflictError):
        device.complete(first, output="late")


# -- the worker ------------------------------------------------------------------------
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
        time.sleep(0.6)  # three of these outlast the 1 s visibility timeout of the batch
        stolen.append(rival.claim(visibility_timeout_ms=30_000))
        ran.append(command.type)
        return command.type

    stats = device.run(handler, limit=3, visibility_timeout_ms=1000, max_commands=3)
    assert ran == ["first", "second", "third"]
    assert (stats.completed, stats.lost) == (3, 0)
    assert all(claimed == [] for claimed in stolen)  # the waiting ones were held too
    assert {c.status for c in cust.sessions.get(session.id).commands} == {"completed"}


async def test_async_run_keeps_a_whole_batch_claimed(app: Starlette) -> None:
    async with three_queued(app) as (cust, device, rival, session):
        stolen: list[list[ClaimedCommand]] = []

        async def handler(command: ClaimedCommand) -> str:
            await asyncio.sleep(0.6)
            stolen.append(await rival.claim(visibility_timeout_ms=30_000))
            return command.type

        stats = await device.run(handler, limit=3, visibility_timeout_ms=1000, max_commands=3)
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

    with httpx.Client(transport=link, base_url=BASE) as flaky:
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
    app: Starlette, http: TestClient
) -> None:
    _, device, rival, _ = device_and_rival(app, http, "first", "second", "third")
    stop = threading.Event()
    ran: list[str] = []

    def handler(command: ClaimedCommand) -> str:
        ran.append(command.type)
        stop.set()  # say, SIGTERM arrives while the first command of the batch runs
        return "ok"

    stats = device.run(handler, limit=3, visibility_timeout_ms=60_000, stop=stop)
    assert ran == ["first"]
    assert stats.completed == 1
    time.sleep(0.01)  # handed back with a 1 ms extension: claimable now, not in 60 s
    taken = rival.claim(limit=10, visibility_timeout_ms=60_000)
    assert sorted(c.type for c in taken) == ["second", "third"]


async def test_a_stopped_async_worker_hands_back_the_commands_it_had_not_started(
    app: Starlette,
) -> None:
    async with three_queued(app) as (_, device, _, _):
        stop = asyncio.Event()

        async def handler(command: ClaimedCommand) -> str:
            stop.set()
            return command.type

        stats = await device.run(handler, limit=3, visibility_timeout_ms=60_000, stop=stop)
        assert stats.completed == 1
        await asyncio.sleep(0.01)
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
    with httpx.Client(transport=flaky, base_url=BASE) as lossy:
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


def worker_behind(
    device: DeviceClient, transport: httpx.BaseTransport, max_retries: int = 0
) -> DeviceClient:
    """Another client of ``device``, over ``transport``, its own retries instant."""
    http = httpx.Client(transport=transport, base_url=BASE)
    secret = device.secret_store.load()
    return DeviceClient(
        BASE, device.device_id, secret, http_client=http, max_retries=max_retries,
        sleep=lambda s: None,
    )  # fmt: skip


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


def test_a_result_is_given_up_once_its_claim_may_be_gone(app: Starlette, http: TestClient) -> None:
    cust, device, _, session = device_and_rival(app, http, "once")
    worker = worker_behind(device, Outage(http._transport, "/result", 10**6))
    started = time.monotonic()
    stats = worker.run(
        lambda c: "done", visibility_timeout_ms=1000, poll_interval=0.01, max_commands=1
    )
    assert time.monotonic() - started < 1.5  # not past the claim's second
    assert (stats.completed, stats.submit_errors) == (0, 1)
    assert stats.transient_errors >= 1
    assert cust.sessions.get(session.id).commands[0].status in ("claimed", "pending")


def test_run_gives_up_after_max_outage(app: Starlette, http: TestClient) -> None:
    device = registered(app, http, "dev-001")
    worker = worker_behind(device, Outage(http._transport, "/claim", 10**6))
    started = time.monotonic()
    with pytest.raises(APIConnectionError):
        worker.run(lambda c: None, poll_interval=0.01, max_outage=0.3)
    assert 0.3 <= time.monotonic() - started < 2


def test_run_raises_what_waiting_cannot_mend_at_once(app: Starlette, http: TestClient) -> None:
    registered(app, http, "dev-001")
    wrong = DeviceClient(BASE, "dev-001", "not-the-secret", http_client=http)
    started = time.monotonic()
    with pytest.raises(AuthenticationError):
        wrong.run(lambda c: None, poll_interval=0.01)
    assert time.monotonic() - started < 1


async def test_async_run_waits_out_claims_and_results_that_fail(app: Starlette) -> None:
    async with three_queued(app) as (cust, device, _, session):
        outage = AsyncOutage(httpx.ASGITransport(app=app), "/claim", 2)
        results = AsyncOutage(outage, "/result", 2)
        async with httpx.AsyncClient(transport=results, base_url=BASE) as http:
            secret = device.secret_store.load()
            worker = AsyncDeviceClient(
                BASE, "dev-001", secret, http_client=http, max_retries=0, sleep=_no_sleep
            )
            stats = await worker.run(lambda c: "done", poll_interval=0.01, exit_when_idle=True)
        assert (stats.completed, stats.transient_errors, stats.submit_errors) == (3, 4, 0)
        commands = (await cust.sessions.get(session.id)).commands
        assert [(c.status, c.claim_count) for c in commands] == [("completed", 1)] * 3


async def _no_sleep(seconds: float) -> None:
    return None


def test_patience_doubles_to_a_cap_and_has_limits() -> None:
    now = [0.0]
    patience = Patience(0.5, 100.0, clock=lambda: now[0], rand=lambda: 1.0)  # no jitter
    assert [patience.next_wait() for _ in range(8)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert patience.next_wait(asked=7) == 7  # what the server asked for
    assert patience.next_wait(before=now[0] + 10) is None  # 30 s would end too late
    now[0] = 100.0  # failing since 0: the outage limit
    assert patience.next_wait() is None
    patience.ok()
    assert patience.next_wait() == 0.5
    jittered = Patience(1.0, None, rand=lambda: 0.0)
    assert jittered.next_wait() == 0.5  # half the ceiling at the least


def test_the_worker_waits_out_only_transient_failures() -> None:
    patience = Patience(0.5, None, rand=lambda: 1.0)
    stats = WorkerStats()
    request = httpx.Request("POST", f"{BASE}/api/v1/device/commands/claim")

    def answer(status: int, **headers: str) -> Exception:
        return make_status_error(httpx.Response(status, headers=headers, request=request), now=0)

    retried = RetryPolicy().retry_statuses  # what the client's own retries retry
    down = APIConnectionError(request=request)
    assert _patience_wait(patience, down, stats, "claim", retried) == 0.5
    assert _patience_wait(patience, answer(503), stats, "claim", retried) == 1
    limited = answer(429, **{"Retry-After": "7"})
    assert _patience_wait(patience, limited, stats, "claim", retried) == 7
    for status in (400, 401, 403, 404, 409):
        assert _patience_wait(patience, answer(status), stats, "claim", retried) is None
    assert stats.transient_errors == 3


def test_stop_event_ends_the_worker(app: Starlette, http: TestClient) -> None:
    device = registered(app, http, "dev-001")
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    stats = device.run(lambda c: None, poll_interval=0.1, stop=stop)
    assert time.monotonic() - started < 5
    assert stats.completed == 0
