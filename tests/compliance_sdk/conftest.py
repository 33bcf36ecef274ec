"""The compliance clients against our own server: in-process (a TestClient as
the sync client's HTTP client, an ASGI transport for the async one) and over
a real socket (uvicorn on 127.0.0.1). Every request and answer goes through
contracts/compliance.openapi.yaml."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import attrs
import httpx
import pytest
from starlette.testclient import TestClient

from gateway_server import GatewayApp, create_app
from tests.compliance_support import BASE, PASSWORD, settings
from tests.contract import Contract, load
from tests.gateway_support import Clock
from tests.support import LocalServer

T = TypeVar("T")
# A provider the server can start a flow with; its token endpoint is never reached
# by these tests (they hand the callback the provider's refusal, not a code).
OAUTH = {
    "google_client_id": "google-client",
    "google_client_secret": "google-secret",
    "google_authorize_url": "https://accounts.example/auth",
    "google_token_url": "http://127.0.0.1:9/token",
}


@attrs.define
class Seeded:
    partner_id: str
    other_partner_id: str
    site_id: str
    incident_id: str
    """A failed firewall check on PC-1 of the site, made through the agents' service."""
    users: dict[str, str]  # role -> username (partner A); "intruder" for partner B's admin


async def seed(app: GatewayApp) -> Seeded:
    api = app.compliance
    partner = await api.users.partner("acme")
    other = await api.users.partner("other")
    users = {}
    for role in ("admin", "operator", "viewer"):
        await api.users.create_user(f"acme-{role}", PASSWORD, role, partner)
        users[role] = f"acme-{role}"
    await api.users.create_user("other-admin", PASSWORD, "admin", other)
    users["intruder"] = "other-admin"
    site = await api.sites.create(partner, "Riverside Clinic", "self_heal")
    await api.sites.create(other, "Elsewhere", "monitor_only")
    drift = await api.service.drift(site.id, "PC-1", "firewall", False, expected="on", actual="off")
    assert drift.incident_id is not None
    return Seeded(partner, other, site.id, drift.incident_id, users)


def _canonical(request: httpx.Request) -> httpx.Request:
    """The request as sent to the contract's server URL (the test's host and port differ)."""
    return httpx.Request(
        request.method,
        BASE + request.url.raw_path.decode(),
        headers=request.headers,
        content=request.content,
    )


def _validate(contract: Contract, response: httpx.Response) -> None:
    """The answer always; the request when it was accepted (a refused one may be
    invalid on purpose, to see the server's refusal)."""
    request = _canonical(response.request)
    if response.is_success:
        contract.validate_request(request)
    contract.validate_response(request, response)


def contract_hooks(contract: Contract) -> dict[str, list[Callable[..., Any]]]:
    def on_response(response: httpx.Response) -> None:
        response.read()
        _validate(contract, response)

    return {"response": [on_response]}


def async_contract_hooks(contract: Contract) -> dict[str, list[Callable[..., Any]]]:
    async def on_response(response: httpx.Response) -> None:
        await response.aread()
        _validate(contract, response)

    return {"response": [on_response]}


@attrs.define
class InProcess:
    app: GatewayApp
    http: TestClient
    clock: Clock
    seeded: Seeded
    contract: Contract

    def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run a coroutine on the app's event loop (the agent channel's service)."""
        return self.http.portal.call(work)  # type: ignore[union-attr]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[InProcess]:
    clock = Clock()
    app = create_app(settings(tmp_path, compliance_session_ttl=600, **OAUTH), clock=clock)
    contract = load("compliance.openapi.yaml")
    with TestClient(app, base_url=BASE) as http:
        http.event_hooks = contract_hooks(contract)
        seeded = http.portal.call(seed, app)  # type: ignore[union-attr]
        yield InProcess(app, http, clock, seeded, contract)


@attrs.define
class Live:
    url: str
    app: GatewayApp
    seeded: Seeded
    contract: Contract


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """uvicorn on 127.0.0.1 over a real socket, seeded before it starts."""
    app = create_app(settings(tmp_path_factory.mktemp("live"), **OAUTH))

    async def seeded() -> Seeded:
        async with app.router.lifespan_context(app):
            return await seed(app)

    data = asyncio.run(seeded())
    server = LocalServer(app, lifespan="on")
    server.start()
    yield Live(server.url, app, data, load("compliance.openapi.yaml"))
    server.stop()
