"""CustomerClient and the async twins against the real gateway in-process."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from gateway_sdk import (
    AsyncCustomerClient,
    AsyncDeviceClient,
    ClaimedCommand,
    ConflictError,
    CustomerClient,
    DeviceClient,
    InputValidationError,
    NotFoundError,
    PermissionDeniedError,
)
from tests.gateway_sdk.clients import customer, registered
from tests.gateway_sdk.conftest import BASE, in_process
from tests.gateway_support import customer_token


def test_devices_are_auto_paginated(app: Starlette, http: TestClient) -> None:
    cust = customer(app, http)
    for i in range(7):
        cust.devices.provision(f"dev-{i:03d}", name=f"Device {i}", location="Paris")
    seen: list[httpx.Request] = []
    http.event_hooks["request"].append(seen.append)
    devices = list(cust.devices.list(page_size=3))
    assert [d.id for d in devices] == [f"dev-{i:03d}" for i in range(7)]
    assert [dict(r.url.params) for r in seen if r.url.path.endswith("/devices")] == [
        {"status": "all", "limit": "3", "offset": str(o)} for o in (0, 3, 6)
    ]
    assert devices[0].status == "provisioned"
    assert list(cust.devices.list(status="online")) == []


def test_status_sessions_approvals_and_system_info(app: Starlette, http: TestClient) -> None:
    cust = customer(app, http)
    device = registered(app, http, "dev-001")
    device.heartbeat("busy", diagnostics={"disk": "ok"})
    status = cust.devices.status("dev-001")
    assert (status.status, status.diagnostics) == ("busy", {"disk": "ok"})
    session = cust.sessions.create("dev-001", "remediation", description="fix printer")
    assert status.active_session is None
    fix = cust.sessions.enqueue(session.id, "restart_spooler")
    bad = cust.sessions.enqueue(session.id, "format_disk")
    assert fix.status == "awaiting_approval"
    assert device.claim() == []
    assert cust.sessions.approve(session.id, fix.id) == "approved"
    assert cust.sessions.reject(session.id, bad.id, reason="no") == "rejected"
    with pytest.raises(ConflictError):
        cust.sessions.approve(session.id, bad.id)
    assert [c.id for c in device.claim(10)] == [fix.id]
    with pytest.raises(ConflictError):
        cust.sessions.create("dev-001")  # an active session exists
    info = cust.system_info()
    assert info.services["database"] == "sqlite"


def test_another_customers_device_is_refused_with_a_typed_error(
    app: Starlette, http: TestClient
) -> None:
    registered(app, http, "dev-001")
    owner = customer(app, http)
    session = owner.sessions.create("dev-001")
    command = owner.sessions.enqueue(session.id, "ping")
    intruder = customer(app, http, "cust-b")
    with pytest.raises(PermissionDeniedError):
        intruder.devices.status("dev-001")
    with pytest.raises(PermissionDeniedError):
        intruder.sessions.create("dev-001")
    with pytest.raises(NotFoundError):
        intruder.devices.status("dev-404")
    # 403 as the document has it ("not owned by customer"), for every way in
    for call in (
        lambda: intruder.devices.status("dev-001"),
        lambda: intruder.sessions.create("dev-001"),
        lambda: intruder.sessions.get(session.id),
        lambda: intruder.sessions.enqueue(session.id, "format_disk"),
        lambda: intruder.sessions.approve(session.id, command.id),
    ):
        with pytest.raises(PermissionDeniedError) as caught:
            call()
        assert (caught.value.status_code, caught.value.code) == (403, "FORBIDDEN")
        assert "not owned by customer" in caught.value.message
    assert [c.type for c in owner.sessions.get(session.id).commands] == ["ping"]  # nothing added


def test_customer_input_checked_before_sending(app: Starlette, http: TestClient) -> None:
    cust = customer(app, http)
    with pytest.raises(InputValidationError, match="device_id"):
        cust.devices.provision("a")
    with pytest.raises(InputValidationError, match="type"):
        cust.sessions.create("dev-001", "surgery")  # type: ignore[arg-type]
    with pytest.raises(InputValidationError, match="priority"):
        cust.sessions.enqueue("s-1", "ping", priority=101)
    with pytest.raises(InputValidationError, match="page_size"):
        cust.devices.list(page_size=0)
    with pytest.raises(InputValidationError, match="token"):
        CustomerClient(BASE, "")


async def test_async_twins(app: Starlette, tmp_path: Path) -> None:
    async with app.router.lifespan_context(app), in_process(app) as http:
        cust = AsyncCustomerClient(BASE, customer_token(app, "cust-a"), http_client=http)
        provisioned = await cust.devices.provision("dev-001")
        device = AsyncDeviceClient(BASE, "dev-001", http_client=http)
        await device.register(provisioned.activation_code)
        assert (await device.heartbeat()).success
        session = await cust.sessions.create("dev-001")
        for i in range(3):
            await cust.sessions.enqueue(session.id, f"job_{i}")

        async def handler(command: ClaimedCommand) -> str:
            return f"did {command.type}"

        stats = await device.run(handler, visibility_timeout_ms=5000, exit_when_idle=True)
        assert stats.completed == 3
        history = await cust.sessions.get(session.id)
        assert [c.result["output"] for c in history.commands] == [
            "did job_0",
            "did job_1",
            "did job_2",
        ]
        commands = await cust.sessions.commands(session.id, page_size=2)
        assert (len(commands), commands.total, commands.has_next_page()) == (2, 3, True)
        assert [c.type async for c in commands] == ["job_0", "job_1", "job_2"]
        pages = cust.sessions.commands(session.id, page_size=2).iter_pages()
        assert [len(p) async for p in pages] == [2, 1]
        raw = await cust.sessions.with_raw_response.commands(session.id)
        assert [c.result["output"] for c in raw.parse().items][-1] == "did job_2"
        assert [d.id async for d in cust.devices.list()] == ["dev-001"]
        assert (await cust.devices.status("dev-001")).status == "online"
        assert (await cust.system_info()).version == "0.1.0"


def test_sync_and_async_surfaces_match() -> None:
    for sync_cls, async_cls in (
        (DeviceClient, AsyncDeviceClient),
        (CustomerClient, AsyncCustomerClient),
    ):
        assert {n for n in dir(sync_cls) if not n.startswith("_")} == {
            n for n in dir(async_cls) if not n.startswith("_")
        }


def test_the_customer_token_is_a_secret_and_the_environment_names_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GATEWAY_BASE_URL", "http://gw.example:8080")
    monkeypatch.setenv("GATEWAY_TOKEN", "eyJ.the-customer-jwt.sig")
    portal = CustomerClient(timeout=30)
    assert str(portal.base_url) == "http://gw.example:8080/"
    shown = repr(portal)
    assert shown == (
        "CustomerClient(base_url='http://gw.example:8080/', auth=StaticAuth(Authorization), "
        "timeout=30, max_retries=2)"
    )
    every_view = shown + str(vars(portal)) + repr(portal.auth)
    assert "the-customer-jwt" not in every_view
    request = httpx.Request("GET", "http://gw.example:8080/api/v1/customer/system/info")
    flow = portal.auth.auth_flow(request)  # type: ignore[union-attr]
    assert next(flow).headers["Authorization"] == "Bearer eyJ.the-customer-jwt.sig"
    assert "the-customer-jwt" not in repr(AsyncCustomerClient())
    monkeypatch.delenv("GATEWAY_TOKEN")
    with pytest.raises(InputValidationError, match="GATEWAY_TOKEN"):
        CustomerClient()


def test_customer_probes(app: Starlette, http: TestClient) -> None:
    cust = customer(app, http)
    assert cust.health().status == "ok"
    assert cust.readiness().checks == {"database": True}
    assert cust.version() == "0.1.0"
