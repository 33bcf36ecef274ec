"""DeviceClient against the real gateway in-process: register, auth, queue, worker."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from gateway_sdk import (
    AuthenticationError,
    ClaimedCommand,
    ConflictError,
    CustomerClient,
    DeviceClient,
    FileSecretStore,
    InputValidationError,
    PermissionDeniedError,
)

BASE = "http://gateway.test"


def customer(app: Starlette, http: TestClient, who: str = "cust-a") -> CustomerClient:
    return CustomerClient(BASE, app.state.verifier.mint(who), http_client=http)


def registered(
    app: Starlette, http: TestClient, device_id: str, tmp_path: Path | None = None
) -> DeviceClient:
    code = customer(app, http).devices.provision(device_id).activation_code
    store = FileSecretStore(tmp_path / f"{device_id}.secret") if tmp_path else None
    device = DeviceClient(BASE, device_id, secret_store=store, http_client=http)
    device.register(code, location="rack 4", model="edge-1")
    return device


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

    http.portal.call(app.state.store.revoke_tokens, "dev-001")  # type: ignore[union-attr]
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
    cust = customer(app, http)
    device = registered(app, http, "dev-001")
    rival = DeviceClient(BASE, "dev-001", device.secret_store.load(), http_client=http)
    session = cust.sessions.create("dev-001")
    cust.sessions.enqueue(session.id, "slow_job")
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


def test_stop_event_ends_the_worker(app: Starlette, http: TestClient) -> None:
    device = registered(app, http, "dev-001")
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    stats = device.run(lambda c: None, poll_interval=0.1, stop=stop)
    assert time.monotonic() - started < 5
    assert stats.completed == 0
