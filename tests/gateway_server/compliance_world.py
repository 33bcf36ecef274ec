"""A small world for the compliance platform's tests: two partners (each with
an admin, an operator and a viewer), and partner A with a record of every
kind (site, enrollment token, agent, incidents, an execution, a learning
candidate promoted to its own runbook and another pending, connectors,
an escalation), made through the API and the agent channel's service."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import attrs

from tests.compliance_support import Partner, Platform
from tests.contracts.test_compliance_contract import OPERATIONS

L2_FIREWALL = "Reapply the firewall group policy"


@attrs.define
class World:
    a: Partner
    b: Partner
    ids: dict[str, str]
    """A's records, by the path parameter that names them (``site_id``, ...)."""


async def runbook_id(platform: Platform, name: str, user: str) -> str:
    r = await platform.call("GET", "/api/runbooks", as_user=user, params={"limit": 200})
    return str(next(rb["id"] for rb in r.json()["items"] if rb["name"] == name))


async def learn(
    platform: Platform, user: str, site: str, host: str, times: int, actual: str = "off"
) -> None:
    """``times`` incidents on ``host`` healed by the built-in L2 firewall runbook."""
    l2 = await runbook_id(platform, L2_FIREWALL, user)
    for _ in range(times):
        incident = await platform.drift(site, host, "firewall", expected="on", actual=actual)
        assert incident is not None
        command = str(uuid.uuid4())
        await platform.api.service.start_execution(incident, l2, command)
        await platform.api.service.healing(site, host, "firewall", True, command_id=command)


async def build(platform: Platform) -> World:
    a, b = await platform.partner("alpha"), await platform.partner("beta")
    admin = a.users["admin"]
    site = await platform.site(a, "Alpha Clinic", capability_tier="self_heal")
    await platform.site(b, "Beta Clinic")
    r = await platform.call("POST", f"/api/sites/{site}/enrollment-tokens", as_user=admin)
    token = r.json()["id"]
    agent = await platform.api.fleet.register(site, "PC-1", os_version="Windows 11")
    await learn(platform, admin, site, "PC-1", 3)
    await learn(platform, admin, site, "PC-1", 3, actual="disabled")
    r = await platform.call("GET", "/api/learning/candidates", as_user=admin)
    first, second = (c["id"] for c in r.json()["items"])
    r = await platform.call("POST", f"/api/learning/candidates/{first}/promote", as_user=admin)
    own_runbook = r.json()["id"]
    incident = await platform.drift(
        site, "PC-1", "firewall", agent_id=agent, expected="on", actual="off"
    )
    assert incident is not None
    await platform.api.service.start_execution(incident, own_runbook, str(uuid.uuid4()), agent)
    r = await platform.call("POST", f"/api/integrations/sites/{site}/aws", as_user=admin)
    connector = r.json()["id"]
    r = await platform.call(
        "POST",
        "/api/escalation/notifications",
        json_body={"site_id": site, "subject": "Look", "message": "Please"},
        as_user=admin,
    )
    notification = r.json()["id"]
    ids = {
        "site_id": site,
        "token_id": token,
        "agent_id": agent,
        "incident_id": incident,
        "runbook_id": own_runbook,
        "candidate_id": second,
        "connector_id": connector,
        "notification_id": notification,
    }
    return World(a, b, ids)


BODIES: dict[str, Any] = {
    "createSite": {"name": "Another Clinic"},
    "updateSite": {"name": "Renamed Clinic"},
    "startOAuth": {"provider": "google_workspace"},
    "setAwsRole": {"role_arn": "arn:aws:iam::123456789012:role/compliance-reader"},
    "login": {"username": "nobody", "password": "wrong"},
}


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(method, path template, operation) of every operation of the contract."""
    for method, path, op, _ in OPERATIONS:
        yield method.upper(), path, op


def fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)


def body_for(op: dict[str, Any], ids: dict[str, str]) -> Any:
    if op["operationId"] == "createEscalation":
        return {"site_id": ids["site_id"], "subject": "Escalated", "message": "Look"}
    return BODIES.get(op["operationId"])
