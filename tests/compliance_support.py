"""Helpers for tests of the compliance platform in our own server: the app
in-process (or over a socket), partners and users made as the CLI makes them,
logins, and every exchange checked against contracts/compliance.openapi.yaml."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import httpx

from gateway_server import GatewayApp, Settings, create_app
from gateway_server.compliance import Compliance
from tests.contract import Contract, load
from tests.gateway_support import Clock
from tests.gateway_support import settings as gateway_settings

BASE = "http://127.0.0.1:8080"
PASSWORD = "correct horse battery staple"
ROLES = ("admin", "operator", "viewer")


def settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Test settings: cheap argon2 parameters (still argon2id), a JWT secret."""
    values: dict[str, Any] = {
        "compliance_password_memory_kib": 64,
        "compliance_password_time_cost": 1,
        **overrides,
    }
    return gateway_settings(tmp_path, **values)


@attrs.define
class Partner:
    id: str
    name: str
    users: dict[str, str] = attrs.field(factory=dict)  # role -> username


@attrs.define
class Platform:
    """An in-process server and an HTTP client to it."""

    app: GatewayApp
    http: httpx.AsyncClient
    clock: Clock
    contract: Contract
    check_contract: bool = True
    tokens: dict[str, str] = attrs.field(factory=dict)

    @property
    def api(self) -> Compliance:
        return self.app.compliance

    async def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        as_user: str | None = None,
        params: dict[str, Any] | None = None,
        check: bool = True,
    ) -> httpx.Response:
        """One request; ``as_user`` sends that user's bearer token. Both the
        request (when it is meant to be valid) and the answer are checked."""
        headers = dict(headers or {})
        if as_user is not None:
            headers["Authorization"] = f"Bearer {await self.token(as_user)}"
        if content is None and json_body is not None:
            content = json.dumps(json_body).encode()
            headers.setdefault("Content-Type", "application/json")
        response = await self.http.request(
            method, path, content=content, headers=headers, params=params
        )
        if check and self.check_contract and path.startswith("/api/"):
            self.contract.validate_response(response.request, response)
        return response

    async def token(self, username: str) -> str:
        if username not in self.tokens:
            r = await self.http.post(
                "/api/auth/login", json={"username": username, "password": PASSWORD}
            )
            assert r.status_code == 200, r.text
            self.tokens[username] = r.json()["token"]
        return self.tokens[username]

    async def partner(self, name: str) -> Partner:
        """A partner with one user of each role (``<name>-admin``, ...)."""
        partner = Partner(await self.api.users.partner(name), name)
        for role in ROLES:
            username = f"{name}-{role}"
            await self.api.users.create_user(username, PASSWORD, role, partner.id)
            partner.users[role] = username
        return partner

    async def site(self, partner: Partner, name: str = "Riverside Clinic", **extra: Any) -> str:
        r = await self.call(
            "POST", "/api/sites", json_body={"name": name, **extra}, as_user=partner.users["admin"]
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    async def drift(
        self, site_id: str, hostname: str, check: str, passed: bool = False, **extra: Any
    ) -> str | None:
        """A drift event through the service the agent channel calls."""
        outcome = await self.api.service.drift(site_id, hostname, check, passed, **extra)
        return outcome.incident_id


@contextlib.asynccontextmanager
async def running_platform(tmp_path: Path, **overrides: Any) -> AsyncIterator[Platform]:
    clock = Clock()
    app = create_app(settings(tmp_path, **overrides), clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
            yield Platform(app, http, clock, load("compliance.openapi.yaml"))


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connecting is refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
