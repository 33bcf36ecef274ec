"""Clients of the in-process compliance platform, as the tests build them."""

from __future__ import annotations

import httpx

from compliance_sdk import ComplianceClient
from tests.compliance_sdk.conftest import InProcess
from tests.compliance_support import BASE, PASSWORD


def client(server: InProcess, role: str = "admin", **options: object) -> ComplianceClient:
    return ComplianceClient(
        BASE,
        username=server.seeded.users[role],
        password=PASSWORD,
        http_client=server.http,
        **options,  # type: ignore[arg-type]
    )


def logins(server: InProcess) -> list[httpx.Request]:
    seen: list[httpx.Request] = []
    server.http.event_hooks["request"].append(
        lambda r: seen.append(r) if r.url.path == "/api/auth/login" else None
    )
    return seen
