"""DeviceClient against the real gateway in-process: register, auth, queue, probes."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from openapi_core.validation.request.exceptions import RequestValidationError
from starlette.applications import Starlette
from starlette.testclient import TestClient

from gateway_sdk import (
    AsyncDeviceClient,
    AuthenticationError,
    ClaimedCommand,
    ConfigUpdate,
    ConflictError,
    DeviceClient,
    InputValidationError,
    PermissionDeniedError,
)
from gateway_sdk._models import parse_socket_event
from gateway_server import create_app, storage
from tests.contract import Contract
from tests.gateway_sdk.clients import customer, registered
from tests.gateway_sdk.conftest import BASE, FAST, in_process
from tests.gateway_support import api, settings
from tests.support import FakeClock


def offline(**options: object) -> DeviceClient:
    """A device client whose every request fails the test: nothing may be sent."""

    def no_network(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"sent {request.method} {request.url}")

    http = httpx.Client(transport=httpx.MockTransport(no_network))
    return DeviceClient(BASE, "dev-001", "s3cret-of-the-device", http_client=http, **options)  # type: ignore[arg-type]


def test_an_empty_activation_code_is_refused_before_sending() -> None:
    device = offline()
    with pytest.raises(InputValidationError) as caught:
        device.register("")
    assert caught.value.field == "activation_code"


def test_heartbeat_claim_extend_complete(
    app: Starlette, http: TestClient, contract: Contract
) -> None:
    checked_before = (contract.requests_checked, contract.responses_checked)
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
    # every exchange above went through the contract: 1 auth + 11 calls, each way
    requests, responses = contract.requests_checked, contract.responses_checked
    assert (requests - checked_before[0], responses - checked_before[1]) >= (12, 12)


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
    clocked: tuple[Starlette, TestClient], clock: FakeClock
) -> None:
    app, http = clocked
    cust = customer(app, http)
    device = registered(app, http, "dev-001", clock=clock)
    session = cust.sessions.create("dev-001")
    cust.sessions.enqueue(session.id, "x")
    (first,) = device.claim(visibility_timeout_ms=1000)
    clock.advance(1.1)  # the gateway's time too
    (second,) = device.claim(visibility_timeout_ms=30_000)
    assert second.id == first.id
    with pytest.raises(PermissionDeniedError):
        device.extend(first, extension_ms=1000)
    device.complete(second, output="ok")
    with pytest.raises(ConflictError):
        device.complete(first, output="late")


def test_an_empty_claim_token_or_device_id_is_refused_before_sending() -> None:
    device = offline()
    tokenless = ClaimedCommand.model_validate(
        {"id": "cmd-1", "type": "x", "claimToken": "", "visibleUntil": "2024-06-01T10:00:00Z"}
    )
    for call in (
        lambda: device.extend("cmd-1"),
        lambda: device.extend(tokenless),
        lambda: device.complete(tokenless, output="ok"),
    ):
        with pytest.raises(InputValidationError) as caught:
            call()
        assert caught.value.field == "claim_token"
    for empty in ("", "ab", "has space"):
        with pytest.raises(InputValidationError) as caught:
            DeviceClient(BASE, empty, "s3cret")
        assert caught.value.field == "device_id"


def test_the_environment_names_the_gateway_and_the_device(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GATEWAY_BASE_URL", "http://gw.example:8080")
    monkeypatch.setenv("GATEWAY_DEVICE_ID", "edge-042")
    monkeypatch.setenv("GATEWAY_DEVICE_SECRET", "s3cret-from-the-env")
    device = DeviceClient()
    assert (str(device.base_url), device.device_id) == ("http://gw.example:8080/", "edge-042")
    assert device.secret_store.load() == "s3cret-from-the-env"
    assert DeviceClient(device_id="edge-043").device_id == "edge-043"  # given wins
    monkeypatch.delenv("GATEWAY_BASE_URL")
    with pytest.raises(InputValidationError) as caught:
        DeviceClient()
    assert caught.value.field == "base_url"
    assert "GATEWAY_BASE_URL" in str(caught.value)
    monkeypatch.delenv("GATEWAY_DEVICE_ID")
    with pytest.raises(InputValidationError, match="GATEWAY_DEVICE_ID"):
        DeviceClient("http://gw.example:8080")


def test_a_device_client_shows_where_and_how_never_its_secret() -> None:
    device = offline(timeout=12.5)
    shown = repr(device)
    assert shown == (
        "DeviceClient(base_url='http://gateway.test/', auth=TokenAuth(DeviceLogin), "
        "timeout=12.5, max_retries=3)"
    )
    assert "s3cret-of-the-device" not in shown + repr(device.secret_store) + repr(device.auth)
    assert repr(AsyncDeviceClient(BASE, "dev-001", "s3cret")).startswith("AsyncDeviceClient(")


def test_probes_need_no_credentials(app: Starlette, http: TestClient) -> None:
    device = DeviceClient(BASE, "dev-001", http_client=http)  # no secret: none sent, none fetched
    seen: list[httpx.Request] = []
    http.event_hooks["request"].append(seen.append)
    health = device.health()
    assert health.status == "ok"
    readiness = device.readiness()
    assert readiness.ready
    assert readiness.checks["database"] is True
    assert device.version() == "0.1.0"
    assert [r.url.path for r in seen] == ["/healthz", "/readyz", "/version"]
    assert not any("x-device-token" in r.headers or "authorization" in r.headers for r in seen)


async def test_async_probes_and_a_gateway_that_is_not_ready(app: Starlette, tmp_path: Path) -> None:
    async with app.router.lifespan_context(app), in_process(app) as http:
        device = AsyncDeviceClient(BASE, "dev-001", http_client=http)
        assert (await device.health()).status == "ok"
        assert await device.version() == "0.1.0"
        assert (await device.readiness()).ready
    # a gateway whose database is broken answers 503: an answer, not an error
    unready = create_app(settings(tmp_path / "unready", **FAST))
    garbage = tmp_path / "not-a-database.db"
    garbage.write_bytes(b"this is not an SQLite database\n" * 200)
    async with unready.router.lifespan_context(unready), in_process(unready) as http:
        database = api(unready).services.database
        working, database.engine = (
            database.engine,
            storage.connect(f"sqlite+aiosqlite:///{garbage}"),
        )
        seen: list[httpx.Request] = []
        http.event_hooks["request"].append(_recorder(seen))
        try:
            readiness = await AsyncDeviceClient(BASE, "dev-001", http_client=http).readiness()
        finally:
            broken, database.engine = database.engine, working
            await broken.dispose()
        assert not readiness.ready
        assert readiness.checks == {"database": False}
        assert readiness.errors[0].startswith("database:")
        assert len(seen) == 1  # a probe answers now: not retried


def _recorder(seen: list[httpx.Request]):  # type: ignore[no-untyped-def]
    async def record(request: httpx.Request) -> None:
        seen.append(request)

    return record


def test_a_config_update_is_typed() -> None:
    event = parse_socket_event('{"type": "config_update", "data": {"heartbeatMs": 30000}}')
    assert isinstance(event, ConfigUpdate)
    assert event.config == {"heartbeatMs": 30000}
    empty = parse_socket_event('{"type": "config_update", "data": null}')
    assert isinstance(empty, ConfigUpdate)
    assert empty.config == {}


def test_the_contract_check_catches_a_request_the_document_forbids(http: TestClient) -> None:
    """The hook every client test runs under can fail: a drifted request does."""
    with pytest.raises(RequestValidationError):
        http.post("/api/v1/device/heartbeat", json={"status": "sleeping"})
