"""Clients of the in-process gateway, as the tests build them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.testclient import TestClient

from gateway_sdk import (
    AsyncCustomerClient,
    AsyncDeviceClient,
    CustomerClient,
    DeviceClient,
    FileSecretStore,
    Session,
)
from tests.gateway_sdk.conftest import BASE, checked, in_process
from tests.gateway_support import customer_token
from tests.support import FakeClock


def customer(app: Starlette, http: TestClient, who: str = "cust-a") -> CustomerClient:
    return CustomerClient(BASE, customer_token(app, who), http_client=http)


def on_clock(clock: FakeClock | None) -> dict[str, Any]:
    """The options that put a client on the fake ``clock`` (its sleeps move it)."""
    return {} if clock is None else {"clock": clock, "sleep": clock.sleep}


def registered(
    app: Starlette,
    http: TestClient,
    device_id: str,
    tmp_path: Path | None = None,
    *,
    clock: FakeClock | None = None,
) -> DeviceClient:
    code = customer(app, http).devices.provision(device_id).activation_code
    store = FileSecretStore(tmp_path / f"{device_id}.secret") if tmp_path else None
    device = DeviceClient(BASE, device_id, secret_store=store, http_client=http, **on_clock(clock))
    device.register(code, location="rack 4", model="edge-1")
    return device


def device_and_rival(
    app: Starlette, http: TestClient, *queued: str, clock: FakeClock | None = None
) -> tuple[CustomerClient, DeviceClient, DeviceClient, Session]:
    """A customer, its registered device, a second client of that device, and a
    session with the commands ``queued`` enqueued, in that order."""
    cust = customer(app, http)
    device = registered(app, http, "dev-001", clock=clock)
    secret = device.secret_store.load()
    rival = DeviceClient(BASE, "dev-001", secret, http_client=http, **on_clock(clock))
    session = cust.sessions.create("dev-001")
    for name in queued:
        cust.sessions.enqueue(session.id, name)
    return cust, device, rival, session


def worker_behind(
    device: DeviceClient,
    transport: httpx.BaseTransport,
    max_retries: int = 0,
    *,
    clock: FakeClock | None = None,
    **options: Any,
) -> DeviceClient:
    """Another client of ``device``, over ``transport`` (contract-checked); its
    sleeps are the fake ``clock``'s, or instant."""
    http = checked(transport=transport, base_url=BASE)
    secret = device.secret_store.load()
    timing: dict[str, Any] = on_clock(clock) or {"sleep": lambda s: None}
    return DeviceClient(
        BASE, device.device_id, secret, http_client=http, max_retries=max_retries,
        **timing, **options,
    )  # fmt: skip


@contextlib.asynccontextmanager
async def three_queued(
    app: Starlette,
) -> AsyncIterator[tuple[AsyncCustomerClient, AsyncDeviceClient, AsyncDeviceClient, Session]]:
    """The app in-process (lifespan running) behind async clients: a customer, its
    registered device, a second client of that device, and a session with three
    commands queued (first, second, third)."""
    async with app.router.lifespan_context(app), in_process(app) as http:
        cust = AsyncCustomerClient(BASE, customer_token(app, "cust-a"), http_client=http)
        code = (await cust.devices.provision("dev-001")).activation_code
        device = AsyncDeviceClient(BASE, "dev-001", http_client=http)
        await device.register(code)
        rival = AsyncDeviceClient(BASE, "dev-001", device.secret_store.load(), http_client=http)
        session = await cust.sessions.create("dev-001")
        for name in ("first", "second", "third"):
            await cust.sessions.enqueue(session.id, name)
        yield cust, device, rival, session
