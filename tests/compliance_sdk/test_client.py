"""ComplianceClient and AsyncComplianceClient against the real server
(in-process, and over a socket), every exchange checked against the contract:
the session (lazy login, re-login on expiry, logout), each resource, the
auto-paginated incidents with their filters, and errors parsed with their code."""

from __future__ import annotations

import functools
import uuid

import httpx
import pytest

from compliance_sdk import (
    AsyncComplianceClient,
    AuthenticationError,
    ComplianceClient,
    ConflictError,
    InputValidationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from tests.compliance_sdk.clients import client, logins
from tests.compliance_sdk.conftest import InProcess, Live, async_contract_hooks
from tests.compliance_support import BASE, PASSWORD

pytestmark = pytest.mark.timeout(60)


def test_the_client_logs_in_on_the_first_call_and_keeps_the_session(server: InProcess) -> None:
    seen = logins(server)
    admin = client(server)
    assert seen == []
    me = admin.me()
    assert me.user.username == "acme-admin"
    assert me.user.partner_id == server.seeded.partner_id
    admin.sites.get(server.seeded.site_id)
    assert len(seen) == 1


def test_an_expired_session_is_opened_again_with_the_credentials(server: InProcess) -> None:
    seen = logins(server)
    viewer = client(server, "viewer")
    viewer.sites.get(server.seeded.site_id)
    server.clock.advance(601)  # the server's session (600 s) has expired
    assert viewer.sites.get(server.seeded.site_id).name == "Riverside Clinic"
    assert len(seen) == 2


def test_a_token_client_cannot_log_in_again_and_logout_revokes(server: InProcess) -> None:
    admin = client(server)
    admin.me()
    assert admin._auth is not None
    token = admin._auth.token.access_token.reveal()  # type: ignore[attr-defined]
    by_token = ComplianceClient(BASE, token=token, http_client=server.http)
    assert by_token.me().user.username == "acme-admin"
    admin.logout()
    with pytest.raises(AuthenticationError) as refused:
        by_token.me()
    assert refused.value.code == "SESSION_INVALID"
    assert admin.me().user.username == "acme-admin"  # logs in anew


def test_errors_are_typed_with_the_documented_code(server: InProcess) -> None:
    admin, viewer = client(server), client(server, "viewer")
    with pytest.raises(NotFoundError) as missing:
        admin.sites.get(str(uuid.uuid4()))
    assert missing.value.code == "SITE_NOT_FOUND"
    with pytest.raises(PermissionDeniedError) as forbidden:
        viewer.sites.create(name="Nope")
    assert forbidden.value.code == "INSUFFICIENT_ROLE"
    with pytest.raises(ConflictError) as conflict:
        admin.sites.create(name="riverside clinic")
    assert conflict.value.code == "SITE_NAME_CONFLICT"
    with pytest.raises(AuthenticationError) as bad:
        ComplianceClient(
            BASE, username="acme-admin", password="wrong", http_client=server.http
        ).me()
    assert bad.value.code == "INVALID_CREDENTIALS"
    # The server's 422, for a rule the client does not check itself (an unknown field).
    with pytest.raises(UnprocessableEntityError) as invalid:
        admin.request("POST", "/api/sites", cast_to=None, json={"name": "x", "color": "red"})
    assert invalid.value.code == "VALIDATION_ERROR"
    assert invalid.value.field_errors == {"color": ["Extra inputs are not permitted"]}


def test_bad_input_fails_before_any_request_naming_the_field(server: InProcess) -> None:
    sent: list[httpx.Request] = []
    server.http.event_hooks["request"].append(sent.append)
    admin = client(server)
    for call, field in (
        (lambda: admin.sites.get("not-a-uuid"), "site_id"),
        (lambda: admin.sites.create(name="   "), "name"),
        (lambda: admin.incidents.list(severity="urgent"), "severity"),  # type: ignore[arg-type]
        (lambda: admin.incidents.list(limit=500), "limit"),
        (
            lambda: admin.integrations.start_oauth(server.seeded.site_id, provider="okta"),
            "okta_domain",
        ),
        (
            lambda: admin.integrations.set_aws_role(server.seeded.site_id, role_arn="arn:x"),
            "role_arn",
        ),
        (
            lambda: admin.escalations.create(
                site_id=server.seeded.site_id, subject="", message="m"
            ),
            "subject",
        ),
    ):
        with pytest.raises(InputValidationError) as error:
            call()
        assert error.value.field == field
    assert sent == []


def test_incidents_are_auto_paginated_with_filters_and_totals(server: InProcess) -> None:
    site = server.seeded.site_id
    service = server.app.compliance.service
    for check, hosts in (("firewall", 7), ("bitlocker", 2)):
        for i in range(hosts):
            server.run(functools.partial(service.drift, site, f"PC-{i}", check, False))
            server.clock.advance(1)
    operator = client(server, "operator")
    firewall = list(operator.incidents.list(check_type="firewall", limit=3))
    assert len(firewall) == 7
    assert len({i.id for i in firewall}) == 7
    pages = list(operator.incidents.list(site_id=site, limit=4).pages())
    assert [len(p) for p in pages] == [4, 4, 1]
    assert pages[0].total == 9
    critical = operator.incidents.list(severity="critical").first_page()
    assert critical.total == 2
    resolved = operator.incidents.resolve(firewall[0].id, note="patched by hand")
    assert resolved.resolved
    assert resolved.resolved_by == "user"
    assert operator.incidents.list(resolved=True).first_page().total == 1
    assert operator.incidents.list(resolved=False).first_page().total == 8
    detail = operator.incidents.get(firewall[1].id)
    assert detail.drift.occurrences == 1
    assert detail.runbook_execution is None


def test_sites_tokens_and_the_fleet(server: InProcess) -> None:
    admin = client(server)
    site = admin.sites.create(name="North", capability_tier="full_remediation")
    assert [s.name for s in admin.sites.list(limit=1)] == ["North", "Riverside Clinic"]
    renamed = admin.sites.update(site.id, name="North Clinic")
    assert renamed.capability_tier == "full_remediation"
    created = admin.sites.create_enrollment_token(site.id, max_uses=3, description="GPO")
    assert created.token.startswith("cet_")
    assert created.ca_cert_pem.startswith("-----BEGIN")
    assert admin.sites.revoke_enrollment_token(site.id, created.id).status == "revoked"
    assert [t.status for t in admin.sites.list_enrollment_tokens(site.id)] == ["revoked"]
    agent = server.run(lambda: server.app.compliance.fleet.register(site.id, "PC-1"))
    overview = admin.fleet.site(site.id)
    assert overview.agents.online == 1
    assert len(overview.compliance) == 6
    assert [a.hostname for a in admin.fleet.agents(site.id)] == ["PC-1"]
    assert admin.fleet.revoke_agent(agent).status == "revoked"
    assert {s.site_name for s in admin.fleet.list()} == {"North Clinic", "Riverside Clinic"}
    admin.sites.delete(site.id)
    with pytest.raises(NotFoundError):
        admin.fleet.site(site.id)


def test_failed_logins_surface_as_rate_limit_errors(server: InProcess) -> None:
    wrong = ComplianceClient(
        BASE, username="acme-viewer", password="guess", http_client=server.http, max_retries=0
    )
    codes = []
    for _ in range(6):
        with pytest.raises((AuthenticationError, RateLimitError)) as error:
            wrong.me()
        codes.append(error.value.code)
    assert codes[:5] == ["INVALID_CREDENTIALS"] * 5
    assert codes[5] == "RATE_LIMITED"


async def test_the_async_client_over_a_socket(live: Live) -> None:
    hooks = async_contract_hooks(live.contract)
    async with httpx.AsyncClient(event_hooks=hooks) as http:
        admin = AsyncComplianceClient(
            live.url, username="acme-admin", password=PASSWORD, http_client=http
        )
        intruder = AsyncComplianceClient(
            live.url, username="other-admin", password=PASSWORD, http_client=http
        )
        me = await admin.login()
        assert me.user.role == "admin"
        site = live.seeded.site_id
        incident = live.seeded.incident_id
        detail = await admin.incidents.get(incident)
        assert detail.site_id == site
        with pytest.raises(NotFoundError) as foreign:
            await intruder.incidents.get(incident)
        assert foreign.value.code == "INCIDENT_NOT_FOUND"
        runbooks = [rb async for rb in admin.runbooks.list(check_type="firewall")]
        assert {rb.level for rb in runbooks} == {"L1", "L2"}
        assert [e async for e in admin.runbooks.executions(runbooks[0].id)] == []
        assert [c async for c in admin.learning.list()] == []
        aws = await admin.integrations.create_aws(site)
        connected = await admin.integrations.set_aws_role(
            site, role_arn="arn:aws:iam::123456789012:role/reader"
        )
        assert connected.id == aws.id
        assert connected.status == "connected"
        assert [c.provider async for c in admin.integrations.list(site)] == ["aws"]
        escalation = await admin.escalations.create(
            site_id=site, subject="Look", message="Please", incident_id=incident
        )
        assert escalation.delivery.status == "not_configured"
        assert (await admin.escalations.get(escalation.id)).incident_id == incident
        assert len([n async for n in admin.escalations.list(site_id=site)]) == 1
        await admin.logout()
        with pytest.raises(AuthenticationError):
            await AsyncComplianceClient(live.url, token="t" * 43, http_client=http).me()
    assert live.contract.responses_checked >= 12


def test_the_session_lifetime_is_read_on_the_servers_clock() -> None:
    # The local clock may be hours off the server's: the lifetime is expires_at
    # minus the server's own Date, not minus local time.
    from compliance_sdk._requests import SessionLogin

    flow = SessionLogin(BASE + "/api/auth/login", "alice", "pw").token_flow(None, now=100.0)
    request = next(flow)
    assert request.url.path == "/api/auth/login"
    answer = httpx.Response(
        200,
        headers={"Date": "Mon, 30 Nov 2026 09:00:00 GMT"},
        json={"token": "t" * 43, "expires_at": "2026-11-30T09:10:00Z", "user": {}},
    )
    with pytest.raises(StopIteration) as done:
        flow.send(answer)
    token = done.value.value
    assert token.expires_at == 700.0
    assert "pw" not in repr(SessionLogin(BASE, "alice", "pw"))
