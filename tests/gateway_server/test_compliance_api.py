"""The compliance platform's records over its REST API, against the real
server in-process, every answer checked against the contract: sites,
enrollment tokens, the fleet, incidents opened and healed through the agent
channel's service, runbooks and their numbers, learning, and the error format."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.compliance_support import Partner, Platform, running_platform
from tests.gateway_server.compliance_world import L2_FIREWALL, learn, runbook_id

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    async with running_platform(tmp_path) as platform:
        yield platform


@pytest.fixture
async def acme(platform: Platform) -> Partner:
    return await platform.partner("acme")


async def test_sites_crud(platform: Platform, acme: Partner) -> None:
    admin = acme.users["admin"]
    r = await platform.call(
        "POST", "/api/sites", json_body={"name": "North", "partner_id": acme.id}, as_user=admin
    )
    assert r.status_code == 201
    site = r.json()
    assert r.headers["Location"] == f"/api/sites/{site['id']}"
    assert site["capability_tier"] == "monitor_only"
    assert site["partner_id"] == acme.id
    r = await platform.call("POST", "/api/sites", json_body={"name": "NORTH"}, as_user=admin)
    assert (r.status_code, r.json()["code"]) == (409, "SITE_NAME_CONFLICT")
    await platform.site(acme, "alpha")
    r = await platform.call("GET", "/api/sites", as_user=admin, params={"limit": 1})
    assert r.json()["total"] == 2
    assert [s["name"] for s in r.json()["items"]] == ["alpha"]
    platform.clock.advance(5)
    r = await platform.call(
        "PUT",
        f"/api/sites/{site['id']}",
        json_body={"name": "North Clinic", "capability_tier": "full_remediation"},
        as_user=admin,
    )
    assert r.json()["name"] == "North Clinic"
    assert r.json()["updated_at"] > site["updated_at"]
    r = await platform.call(
        "PUT", f"/api/sites/{site['id']}", json_body={"name": "Alpha"}, as_user=admin
    )
    assert r.status_code == 409
    r = await platform.call(
        "PUT", f"/api/sites/{site['id']}", json_body={"name": "north clinic"}, as_user=admin
    )
    assert r.status_code == 200
    assert r.json()["capability_tier"] == "full_remediation"
    assert (
        await platform.call("DELETE", f"/api/sites/{site['id']}", as_user=admin)
    ).status_code == 204
    r = await platform.call("GET", f"/api/sites/{site['id']}", as_user=admin)
    assert (r.status_code, r.json()["code"]) == (404, "SITE_NOT_FOUND")


async def test_deleting_a_site_takes_everything_under_it_and_revokes_its_agents(
    platform: Platform, acme: Partner
) -> None:
    admin = acme.users["admin"]
    site = await platform.site(acme)
    agent = await platform.api.fleet.register(site, "PC-1")
    incident = await platform.drift(site, "PC-1", "firewall", agent_id=agent)
    await platform.call("DELETE", f"/api/sites/{site}", as_user=admin)
    r = await platform.call("GET", f"/api/incidents/{incident}", as_user=admin)
    assert r.status_code == 404
    row, _ = await platform.api.fleet.agent(acme.id, agent)
    assert row.revoked_at is not None


async def test_enrollment_tokens_are_shown_once_and_listed_by_status(
    platform: Platform, acme: Partner
) -> None:
    admin, site = acme.users["admin"], await platform.site(acme)
    path = f"/api/sites/{site}/enrollment-tokens"
    r = await platform.call(
        "POST", path, json_body={"description": "GPO", "max_uses": 1}, as_user=admin
    )
    assert r.status_code == 201
    created = r.json()
    assert created["token"].startswith(created["token_prefix"])
    assert created["ca_cert_pem"].startswith("-----BEGIN CERTIFICATE-----")
    short = await platform.call("POST", path, json_body={"expires_in_seconds": 300}, as_user=admin)
    revoked = await platform.call("POST", path, as_user=admin)
    await platform.call("POST", f"{path}/{revoked.json()['id']}/revoke", as_user=admin)
    again = await platform.call("POST", f"{path}/{revoked.json()['id']}/revoke", as_user=admin)
    assert again.json()["status"] == "revoked"
    platform.clock.advance(301)
    r = await platform.call("GET", f"{path}/{created['id']}", as_user=acme.users["viewer"])
    assert "token" not in r.json()
    assert r.json()["status"] == "active"
    for status, expected in (
        ("active", [created["id"]]),
        ("expired", [short.json()["id"]]),
        ("revoked", [revoked.json()["id"]]),
        ("exhausted", []),
    ):
        r = await platform.call("GET", path, params={"status": status}, as_user=admin)
        assert [t["id"] for t in r.json()["items"]] == expected, status
    fingerprints = {
        t["ca_fingerprint_sha256"]
        for t in (await platform.call("GET", path, as_user=admin)).json()["items"]
    }
    assert fingerprints == {created["ca_fingerprint_sha256"]}


async def test_incidents_open_update_and_heal_through_the_agents_service(
    platform: Platform, acme: Partner
) -> None:
    viewer, site = acme.users["viewer"], await platform.site(acme, capability_tier="self_heal")
    agent = await platform.api.fleet.register(site, "PC-1")
    first = await platform.drift(
        site,
        "PC-1",
        "firewall",
        agent_id=agent,
        expected="on",
        actual="off",
        metadata={"profile": "Public"},
    )
    platform.clock.advance(10)
    again = await platform.drift(
        site, "PC-1", "firewall", agent_id=agent, expected="on", actual="still off"
    )
    assert first == again
    assert first is not None
    assert await platform.drift(site, "PC-1", "defender", True, agent_id=agent) is None
    r = await platform.call("GET", f"/api/incidents/{first}", as_user=viewer)
    detail = r.json()
    assert detail["severity"] == "high"
    assert detail["hipaa_controls"] == ["164.312(e)(1)"]
    assert detail["drift"]["occurrences"] == 2
    assert detail["drift"]["actual"] == "still off"
    assert detail["drift"]["metadata"] == {}
    assert detail["runbook_execution"] is None
    runbook = await platform.api.service.runbook_for(site, "firewall")
    assert runbook is not None
    assert runbook.level == "L1"
    command = str(uuid.uuid4())
    await platform.api.service.start_execution(first, runbook.id, command, agent)
    resolved = await platform.api.service.healing(
        site, "PC-1", "firewall", True, command_id=command, artifacts={"profiles": "all"}
    )
    assert resolved == first
    detail = (await platform.call("GET", f"/api/incidents/{first}", as_user=viewer)).json()
    assert detail["resolved"]
    assert detail["resolved_by"] == "agent"
    assert detail["runbook_execution"]["status"] == "succeeded"
    assert detail["runbook_execution"]["artifacts"] == {"profiles": "all"}
    r = await platform.call(
        "POST", f"/api/incidents/{first}/resolve", as_user=acme.users["operator"]
    )
    assert (r.status_code, r.json()["code"]) == (409, "INCIDENT_ALREADY_RESOLVED")
    # A new failure of the same check opens a new incident.
    assert await platform.drift(site, "PC-1", "firewall") not in (None, first)


async def test_monitor_only_sites_get_no_runbook_and_disruptive_ones_need_full_remediation(
    platform: Platform, acme: Partner
) -> None:
    monitor = await platform.site(acme, "m")
    heal = await platform.site(acme, "h", capability_tier="self_heal")
    full = await platform.site(acme, "f", capability_tier="full_remediation")
    assert await platform.api.service.runbook_for(monitor, "firewall") is None
    assert await platform.api.service.runbook_for(heal, "bitlocker") is None  # disruptive
    found = await platform.api.service.runbook_for(full, "bitlocker")
    assert found is not None
    assert found.is_disruptive


async def test_incident_filters_pages_and_totals(platform: Platform, acme: Partner) -> None:
    operator = acme.users["operator"]
    one, two = await platform.site(acme, "one"), await platform.site(acme, "two")
    for i in range(7):
        await platform.drift(one, f"PC-{i}", "firewall")
        platform.clock.advance(1)
    for i in range(3):
        await platform.drift(two, f"PC-{i}", "bitlocker")
        platform.clock.advance(1)
    await platform.drift(two, "PC-9", "patches")
    everything = (await platform.call("GET", "/api/incidents", as_user=operator)).json()
    assert everything["total"] == 11
    created = [i["created_at"] for i in everything["items"]]
    assert created == sorted(created, reverse=True)
    r = await platform.call(
        "GET", "/api/incidents", params={"site_id": one, "limit": 3, "offset": 3}, as_user=operator
    )
    assert r.json()["total"] == 7
    assert len(r.json()["items"]) == 3
    assert r.json()["offset"] == 3
    target = everything["items"][0]["id"]
    await platform.call(
        "POST", f"/api/incidents/{target}/resolve", json_body={"note": "by hand"}, as_user=operator
    )
    for params, total in (
        ({"severity": "critical"}, 3),
        ({"severity": "high", "site_id": one}, 7),
        ({"resolved": "true"}, 1),
        ({"resolved": "false", "site_id": two}, 3),
        ({"check_type": "patches"}, 1),
        ({"check_type": "rmm"}, 0),
    ):
        r = await platform.call("GET", "/api/incidents", params=params, as_user=operator)
        assert r.json()["total"] == total, params
        assert len(r.json()["items"]) == total
    detail = (await platform.call("GET", f"/api/incidents/{target}", as_user=operator)).json()
    assert detail["resolved_by"] == "user"
    assert detail["resolution_note"] == "by hand"


async def test_fleet_overview_counts_agents_checks_and_rmm(
    platform: Platform, acme: Partner
) -> None:
    viewer, site = acme.users["viewer"], await platform.site(acme, "Fleet")
    agents = [await platform.api.fleet.register(site, f"PC-{i}") for i in range(3)]
    for i, agent in enumerate(agents):
        await platform.drift(site, f"PC-{i}", "firewall", i != 0, agent_id=agent)
        await platform.drift(site, f"PC-{i}", "defender", True, agent_id=agent)
    await platform.api.fleet.rmm_report(
        agents[1], [{"name": "Automate", "version": "1", "running": True, "service_name": "LT"}]
    )
    await platform.api.fleet.rmm_report(
        agents[2], [{"name": "Automate", "version": "1", "running": False, "service_name": "LT"}]
    )
    platform.clock.advance(3 * 300 + 1)
    await platform.api.fleet.heartbeat(agents[1], 2, 0, "0.4.0")
    overview = (await platform.call("GET", f"/api/fleet/sites/{site}", as_user=viewer)).json()
    assert overview["agents"] == {"total": 3, "online": 1, "offline": 2, "revoked": 0}
    assert overview["open_incidents"] == 1
    checks = {c["check_type"]: c for c in overview["compliance"]}
    assert checks["firewall"] == {
        "check_type": "firewall",
        "reporting": 3,
        "passing": 2,
        "failing": 1,
        "rate": 0.6667,
    }
    assert checks["rmm"]["rate"] is None
    assert overview["rmm"] == {
        "agents_reporting": 2,
        "agents_with_rmm_running": 1,
        "products": [{"name": "Automate", "hosts": 2, "running": 1}],
    }
    await platform.call(
        "POST", f"/api/fleet/agents/{agents[0]}/revoke", as_user=acme.users["admin"]
    )
    summary = (await platform.call("GET", "/api/fleet", as_user=viewer)).json()["items"][0]
    assert summary["agents_total"] == 2
    assert summary["compliance_rate"] == 1.0
    r = await platform.call(
        "GET", f"/api/fleet/sites/{site}/agents", params={"status": "revoked"}, as_user=viewer
    )
    assert [a["id"] for a in r.json()["items"]] == [agents[0]]
    r = await platform.call("GET", f"/api/fleet/agents/{agents[1]}", as_user=viewer)
    assert r.json()["status"] == "online"
    assert r.json()["agent_version"] == "0.4.0"
    assert r.json()["rmm"]["agents"][0]["name"] == "Automate"


async def test_learning_proposes_repeated_fixes_and_promotes_them(
    platform: Platform, acme: Partner
) -> None:
    admin, site = acme.users["admin"], await platform.site(acme, capability_tier="self_heal")
    await learn(platform, admin, site, "PC-1", 2)
    r = await platform.call("GET", "/api/learning/candidates", as_user=admin)
    assert r.json()["total"] == 0  # not yet: two successes, three needed
    await learn(platform, admin, site, "PC-2", 1)
    (candidate,) = (await platform.call("GET", "/api/learning/candidates", as_user=admin)).json()[
        "items"
    ]
    assert candidate["occurrences"] == candidate["success_count"] == 3
    assert candidate["issue_signature"] == "firewall: expected on, actual off"
    r = await platform.call(
        "POST",
        f"/api/learning/candidates/{candidate['id']}/promote",
        json_body={"name": "Fix GPO"},
        as_user=admin,
    )
    assert r.status_code == 201
    assert r.headers["Location"] == f"/api/runbooks/{r.json()['id']}"
    runbook = r.json()
    assert runbook["level"] == "L1"
    assert runbook["partner_id"] == acme.id
    assert runbook["source_candidate_id"] == candidate["id"]
    assert runbook["steps"] == candidate["resolution_steps"]
    r = await platform.call(
        "POST", f"/api/learning/candidates/{candidate['id']}/reject", as_user=acme.users["operator"]
    )
    assert (r.status_code, r.json()["code"]) == (409, "CANDIDATE_ALREADY_DECIDED")
    # The promoted runbook now heals the check on the partner's sites.
    found = await platform.api.service.runbook_for(site, "firewall")
    assert found is not None
    assert found.id == runbook["id"]
    l2 = await runbook_id(platform, L2_FIREWALL, admin)
    stats = (await platform.call("GET", f"/api/runbooks/{l2}", as_user=admin)).json()
    assert stats["execution_count"] == 3
    assert stats["success_rate"] == 1.0
    r = await platform.call(
        "GET", f"/api/runbooks/{l2}/executions", params={"status": "succeeded"}, as_user=admin
    )
    assert r.json()["total"] == 3


async def test_rejected_candidates_keep_their_reason(platform: Platform, acme: Partner) -> None:
    admin, site = acme.users["admin"], await platform.site(acme)
    await learn(platform, admin, site, "PC-1", 3)
    (candidate,) = (await platform.call("GET", "/api/learning/candidates", as_user=admin)).json()[
        "items"
    ]
    r = await platform.call(
        "POST",
        f"/api/learning/candidates/{candidate['id']}/reject",
        json_body={"reason": "local fix"},
        as_user=acme.users["operator"],
    )
    assert r.json()["status"] == "rejected"
    assert r.json()["reject_reason"] == "local fix"
    r = await platform.call(
        "GET", "/api/learning/candidates", params={"status": "pending"}, as_user=admin
    )
    assert r.json()["total"] == 0


async def test_bad_input_is_422_listing_every_field_never_500(
    platform: Platform, acme: Partner
) -> None:
    admin = acme.users["admin"]
    r = await platform.call(
        "GET",
        "/api/incidents",
        params={"limit": "500", "resolved": "maybe", "severity": "x", "limt": "1"},
        as_user=admin,
    )
    assert r.status_code == 422
    assert {tuple(f["loc"]) for f in r.json()["detail"]} == {
        ("query", "limit"),
        ("query", "resolved"),
        ("query", "severity"),
        ("query", "limt"),
    }
    assert r.json()["message"].startswith("4 invalid fields")
    for value in ("\u0665", "+5", " 5", "5.0"):  # an Arabic-Indic five, a sign, ...
        r = await platform.call("GET", "/api/sites", params={"limit": value}, as_user=admin)
        assert r.status_code == 422, value
    r = await platform.call("GET", "/api/sites/not-a-uuid", as_user=admin)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["path", "site_id"]
    r = await platform.call(
        "POST",
        "/api/sites",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
        as_user=admin,
    )
    assert r.status_code == 422
    r = await platform.call(
        "POST",
        "/api/sites",
        content=b"name=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        as_user=admin,
    )
    assert (r.status_code, r.json()["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    r = await platform.call(
        "POST", "/api/sites", json_body={"name": "x" * 2_000_000}, as_user=admin
    )
    assert (r.status_code, r.json()["code"]) == (413, "PAYLOAD_TOO_LARGE")
    r = await platform.call("POST", "/api/sites", json_body={"name": "   "}, as_user=admin)
    assert r.status_code == 422
    r = await platform.call("POST", "/api/sites", json_body={"name": None}, as_user=admin)
    assert r.status_code == 422


async def test_no_route_and_wrong_method_answer_in_the_compliance_format(
    platform: Platform,
) -> None:
    r = await platform.call("GET", "/api/sites/x/nothing", check=False)
    assert r.status_code == 404
    assert r.json() == {
        "detail": "Not Found",
        "status": "error",
        "code": "NOT_FOUND",
    }
    r = await platform.call("PATCH", "/api/sites", check=False)
    assert (r.status_code, r.json()["code"], r.json()["status"]) == (
        405,
        "METHOD_NOT_ALLOWED",
        "error",
    )
    # The device gateway keeps its own format.
    r = await platform.call("GET", "/api/v1/customer/nothing", check=False)
    assert r.json()["error"]["code"] == "NOT_FOUND"


async def test_both_contracts_are_served_with_a_page_each(platform: Platform) -> None:
    compliance = await platform.http.get("/compliance/openapi.json")
    gateway = await platform.http.get("/openapi.json")
    assert compliance.json()["info"]["title"] == "Compliance platform API"
    assert "/api/incidents" in compliance.json()["paths"]
    assert "/api/incidents" not in gateway.json()["paths"]
    page = await platform.http.get("/compliance/docs")
    assert page.status_code == 200
    assert "/compliance/openapi.json" in page.text
    assert (
        await platform.http.get("/compliance/docs/static/swagger-ui-bundle.js")
    ).status_code == 200
