"""Who may call what on the compliance platform, on every operation of
contracts/compliance.openapi.yaml: no session is 401, a role the operation's
``x-roles`` leaves out is 403 whatever the target, and another partner's
records are answered exactly as records that do not exist (404 with the
resource's code), on every endpoint, filters and body references included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.compliance_support import Platform, running_platform
from tests.gateway_server.compliance_world import World, body_for, build, fill, operations

pytestmark = pytest.mark.timeout(120)

NOT_FOUND = {
    "site_id": "SITE_NOT_FOUND",
    "agent_id": "AGENT_NOT_FOUND",
    "incident_id": "INCIDENT_NOT_FOUND",
    "runbook_id": "RUNBOOK_NOT_FOUND",
    "candidate_id": "CANDIDATE_NOT_FOUND",
    "connector_id": "CONNECTOR_NOT_FOUND",
    "notification_id": "NOTIFICATION_NOT_FOUND",
}
PUBLIC = {"login"}
LISTS = {
    "/api/sites": "items",
    "/api/fleet": "items",
    "/api/incidents": "items",
    "/api/learning/candidates": "items",
    "/api/escalation/notifications": "items",
}


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[Platform, World]]:
    async with running_platform(tmp_path, google_client_id="google-client") as platform:
        yield platform, await build(platform)


async def test_every_operation_but_login_refuses_a_caller_without_a_session(
    world: tuple[Platform, World],
) -> None:
    platform, w = world
    for method, path, op in operations():
        if op["operationId"] in PUBLIC:
            continue
        r = await platform.call(method, fill(path, w.ids), json_body=body_for(op, w.ids))
        assert r.status_code == 401, (method, path, r.text)
        assert r.json()["code"] == "NOT_AUTHENTICATED"
        r = await platform.call(
            method, fill(path, w.ids), headers={"Authorization": "Bearer " + "x" * 43}
        )
        assert (r.status_code, r.json()["code"]) == (401, "SESSION_INVALID"), (method, path)


async def test_a_role_the_operation_does_not_list_is_403_whatever_the_target(
    world: tuple[Platform, World],
) -> None:
    platform, w = world
    checked = 0
    for method, path, op in operations():
        for role in ("viewer", "operator", "admin"):
            if op["operationId"] in PUBLIC or role in op["x-roles"]:
                continue
            user = w.a.users[role]
            for ids in (w.ids, dict.fromkeys(w.ids, "00000000-0000-4000-8000-000000000000")):
                r = await platform.call(
                    method, fill(path, ids), json_body=body_for(op, ids), as_user=user
                )
                assert r.status_code == 403, (role, method, path, r.text)
                assert r.json()["code"] == "INSUFFICIENT_ROLE"
            checked += 1
    assert checked >= 25  # every write is refused to viewers, the admin's to operators
    r = await platform.call("GET", f"/api/sites/{w.ids['site_id']}", as_user=w.a.users["admin"])
    assert r.json()["name"] == "Alpha Clinic"  # nothing changed


async def test_every_get_is_open_to_a_viewer_of_the_partner(world: tuple[Platform, World]) -> None:
    platform, w = world
    for method, path, op in operations():
        if method != "GET" or op["operationId"] == "oauthCallback":
            continue
        r = await platform.call(method, fill(path, w.ids), as_user=w.a.users["viewer"])
        assert r.status_code == 200, (path, r.text)


async def test_another_partners_ids_are_404_on_every_endpoint(
    world: tuple[Platform, World],
) -> None:
    platform, w = world
    intruder = w.b.users["admin"]
    checked = 0
    for method, path, op in operations():
        names = [n for n in NOT_FOUND if "{" + n + "}" in path]
        if not names:
            continue
        r = await platform.call(
            method, fill(path, w.ids), json_body=body_for(op, w.ids), as_user=intruder
        )
        assert r.status_code == 404, (method, path, r.text)
        assert r.json()["code"] == NOT_FOUND[names[0]], (method, path)
        assert r.json() == {
            "detail": r.json()["detail"],
            "status": "error",
            "code": NOT_FOUND[names[0]],
        }
        checked += 1
    assert checked >= 25


async def test_foreign_records_answer_exactly_as_unknown_ones(
    world: tuple[Platform, World],
) -> None:
    platform, w = world
    unknown = dict.fromkeys(w.ids, "0b7f6a52-3a0e-4a51-9d2c-1f8e7c6b5a49")
    for method, path, _op in operations():
        if "{" not in path or method != "GET":
            continue
        foreign = await platform.call(method, fill(path, w.ids), as_user=w.b.users["viewer"])
        missing = await platform.call(method, fill(path, unknown), as_user=w.b.users["viewer"])
        assert foreign.json() == missing.json(), path


async def test_filters_and_body_references_to_another_partner_are_404(
    world: tuple[Platform, World],
) -> None:
    platform, w = world
    intruder = w.b.users["admin"]
    site, incident = w.ids["site_id"], w.ids["incident_id"]
    for path in (
        "/api/incidents",
        "/api/learning/candidates",
        "/api/escalation/notifications",
        f"/api/runbooks/{(await _builtin(platform, intruder))}/executions",
    ):
        r = await platform.call("GET", path, params={"site_id": site}, as_user=intruder)
        assert (r.status_code, r.json()["code"]) == (404, "SITE_NOT_FOUND"), path
    own_site = (await platform.call("GET", "/api/sites", as_user=intruder)).json()["items"][0]
    escalation = {
        "site_id": own_site["id"],
        "incident_id": incident,
        "subject": "s",
        "message": "m",
    }
    r = await platform.call(
        "POST", "/api/escalation/notifications", json_body=escalation, as_user=intruder
    )
    assert (r.status_code, r.json()["code"]) == (404, "INCIDENT_NOT_FOUND")
    r = await platform.call(
        "POST",
        "/api/sites",
        json_body={"name": "Sneaky", "partner_id": w.a.id},
        as_user=intruder,
    )
    assert (r.status_code, r.json()["code"]) == (404, "PARTNER_NOT_FOUND")


async def test_lists_show_only_the_callers_partner(world: tuple[Platform, World]) -> None:
    platform, w = world
    for path, key in LISTS.items():
        mine = await platform.call("GET", path, as_user=w.a.users["viewer"])
        theirs = await platform.call("GET", path, as_user=w.b.users["viewer"])
        a_ids = {item.get("id") or item.get("site_id") for item in mine.json()[key]}
        b_ids = {item.get("id") or item.get("site_id") for item in theirs.json()[key]}
        assert a_ids, path
        assert not a_ids & b_ids, path
    runbooks = await platform.call(
        "GET", "/api/runbooks", params={"limit": 200}, as_user=w.b.users["viewer"]
    )
    assert w.ids["runbook_id"] not in {rb["id"] for rb in runbooks.json()["items"]}
    assert all(rb["partner_id"] is None for rb in runbooks.json()["items"])
    assert all(rb["execution_count"] == 0 for rb in runbooks.json()["items"])


async def _builtin(platform: Platform, user: str) -> str:
    r = await platform.call("GET", "/api/runbooks", params={"level": "L1"}, as_user=user)
    return str(r.json()["items"][0]["id"])
