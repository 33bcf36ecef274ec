"""The suite's conventions on the compliance clients, against the real server
(in-process, and over a socket), every exchange contract-checked: per-call
options, typed raw responses, pages fetched at the call with their filters,
NOT_GIVEN, the calls safe (or not) to send again, environment and repr."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable

import httpx
import pytest

from compliance_sdk import (
    APIResponse,
    AsyncComplianceClient,
    AsyncPage,
    BadRequestError,
    ComplianceClient,
    Incident,
    IncidentDetail,
    InputValidationError,
    InternalServerError,
    NotFoundError,
    RequestOverrides,
    SDKError,
    Site,
    SyncPage,
)
from compliance_sdk._raw import (
    AsyncComplianceClientWithRawResponse,
    ComplianceClientWithRawResponse,
)
from tests.compliance_sdk.clients import client
from tests.compliance_sdk.conftest import InProcess, Live, async_contract_hooks
from tests.compliance_support import BASE, PASSWORD

pytestmark = pytest.mark.timeout(60)

RESOURCES = ("sites", "fleet", "incidents", "runbooks", "learning", "integrations", "escalations")


def recorded(server: InProcess) -> list[httpx.Request]:
    """The requests the clients send from now on, logins left out."""
    seen: list[httpx.Request] = []
    server.http.event_hooks["request"].append(
        lambda r: None if r.url.path == "/api/auth/login" else seen.append(r)
    )
    return seen


def incidents(server: InProcess, check: str, hosts: int) -> None:
    """``hosts`` incidents of ``check`` on the seeded site, a second apart, through
    the agents' service (as the agent channel makes them)."""
    service = server.app.compliance.service
    for i in range(hosts):
        server.run(functools.partial(service.drift, server.seeded.site_id, f"PC-{i}", check, False))
        server.clock.advance(1)


# -- per-call options -------------------------------------------------------------------
def test_per_call_options_reach_the_request_and_only_that_one(server: InProcess) -> None:
    admin = client(server)
    seen = recorded(server)
    site = admin.sites.create(
        name="North",
        timeout=4.5,
        extra_headers={"X-Trace": "t-1"},
        extra_body={"capability_tier": "self_heal"},  # a field the call does not name
    )
    sent = seen[-1]
    assert sent.extensions["timeout"]["read"] == 4.5
    assert sent.headers["X-Trace"] == "t-1"
    assert json.loads(sent.content) == {"name": "North", "capability_tier": "self_heal"}
    assert site.capability_tier == "self_heal"
    assert admin.sites.get(site.id).name == "North"
    plain = seen[-1]
    assert plain.extensions["timeout"]["read"] == 60.0  # the client's, again
    assert "X-Trace" not in plain.headers


def test_list_options_apply_to_every_page(server: InProcess) -> None:
    incidents(server, "firewall", 5)
    incidents(server, "bitlocker", 2)
    operator = client(server, "operator")
    seen = recorded(server)
    # extra_query: a filter this SDK would not know yet, kept on every page
    found = list(
        operator.incidents.list(
            limit=2, extra_query={"check_type": "bitlocker"}, extra_headers={"X-Trace": "all"}
        )
    )
    assert [i.check_type for i in found] == ["bitlocker"] * 2
    assert [r.headers["X-Trace"] for r in seen] == ["all"]
    firewall = list(operator.incidents.list(limit=2, extra_query={"check_type": "firewall"}))
    assert len(firewall) == 5  # PC-1's is the seeded one, updated
    assert [r.url.params["check_type"] for r in seen[1:]] == ["firewall"] * 3


def test_every_method_takes_the_options(server: InProcess) -> None:
    admin = client(server)
    site = server.seeded.site_id
    agent = server.run(lambda: server.app.compliance.fleet.register(site, "PC-9"))
    seen = recorded(server)
    tag: RequestOverrides = {"extra_headers": {"X-Trace": "each"}}
    missing = str(uuid.uuid4())
    calls: list[Callable[[], object]] = [
        lambda: admin.me(**tag),
        lambda: admin.login(**tag),
        lambda: admin.sites.list(**tag),
        lambda: admin.sites.get(site, **tag),
        lambda: admin.sites.update(site, name="Riverside Clinic", **tag),
        lambda: admin.sites.list_enrollment_tokens(site, **tag),
        lambda: admin.fleet.list(**tag),
        lambda: admin.fleet.site(site, **tag),
        lambda: admin.fleet.agents(site, **tag),
        lambda: admin.fleet.agent(agent, **tag),
        lambda: admin.fleet.revoke_agent(agent, **tag),
        lambda: admin.incidents.list(**tag),
        lambda: admin.incidents.get(server.seeded.incident_id, **tag),
        lambda: admin.incidents.resolve(server.seeded.incident_id, **tag),
        lambda: admin.runbooks.list(**tag),
        lambda: admin.learning.list(**tag),
        lambda: admin.integrations.list(site, **tag),
        lambda: admin.integrations.create_aws(site, **tag),
        lambda: admin.escalations.list(**tag),
    ]
    for call in calls:
        call()
    token = admin.sites.create_enrollment_token(site, **tag)
    admin.sites.get_enrollment_token(site, token.id, **tag)
    admin.sites.revoke_enrollment_token(site, token.id, **tag)
    runbook = next(iter(admin.runbooks.list()))
    admin.runbooks.get(runbook.id, **tag)
    admin.runbooks.executions(runbook.id, **tag)
    aws = admin.integrations.set_aws_role(
        site, role_arn="arn:aws:iam::123456789012:role/reader", **tag
    )
    admin.integrations.get(aws.id, **tag)
    admin.integrations.delete(aws.id, **tag)
    oauth = admin.integrations.start_oauth(site, provider="google_workspace", **tag)
    with pytest.raises(BadRequestError):  # the provider's refusal, handed on
        admin.integrations.complete_oauth(state=oauth.state, error="access_denied", **tag)
    escalation = admin.escalations.create(site_id=site, subject="s", message="m", **tag)
    admin.escalations.get(escalation.id, **tag)
    for refused in (  # no candidate yet: the 404 says the request went, options and all
        lambda: admin.learning.get(missing, **tag),
        lambda: admin.learning.promote(missing, **tag),
        lambda: admin.learning.reject(missing, **tag),
    ):
        with pytest.raises(NotFoundError):
            refused()
    scratch = admin.sites.create(name="Scratch", **tag)
    admin.sites.delete(scratch.id, **tag)
    tagged = [r for r in seen if r.headers.get("X-Trace") == "each"]
    untagged = [r for r in seen if r not in tagged]
    assert [(r.method, r.url.path) for r in untagged] == [("GET", "/api/runbooks")]
    assert len(tagged) == len(calls) + 17


def test_an_idempotency_key_is_refused_before_sending() -> None:
    """The platform does not deduplicate by Idempotency-Key: a key would only
    make sdk_core retry a POST (an escalation, twice, is two notifications)."""

    def no_network(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"sent {request.method} {request.url}")

    http = httpx.Client(transport=httpx.MockTransport(no_network))
    admin = ComplianceClient(BASE, token="t" * 43, http_client=http)
    site = str(uuid.uuid4())
    for call in (
        lambda: admin.sites.create(name="a", idempotency_key="k"),  # type: ignore[call-arg]
        lambda: admin.escalations.create(
            site_id=site,
            subject="s",
            message="m",
            idempotency_key="k",  # type: ignore[call-arg]
        ),
        lambda: admin.incidents.list(idempotency_key="k"),  # type: ignore[call-arg]
        lambda: admin.me(idempotency_key="k"),  # type: ignore[call-arg]
    ):
        with pytest.raises(InputValidationError) as caught:
            call()
        assert caught.value.field == "idempotency_key"
    with pytest.raises(InputValidationError) as caught:
        admin.sites.get(site, timeuot=5)  # type: ignore[call-arg]
    assert caught.value.field == "timeuot"


# -- raw responses, typed -----------------------------------------------------------------
def test_raw_responses_are_typed_and_carry_the_headers(server: InProcess) -> None:
    admin = client(server)
    raw: APIResponse[Site] = admin.sites.with_raw_response.get(
        server.seeded.site_id, extra_headers={"X-Request-ID": "req-site-1"}
    )
    assert (raw.status_code, raw.request_id) == (200, "req-site-1")
    assert raw.parse().name == "Riverside Clinic"
    detail: APIResponse[IncidentDetail] = admin.with_raw_response.incidents.get(
        server.seeded.incident_id
    )
    assert detail.parse().drift.occurrences == 1
    assert detail.request_id is not None  # the server's own
    created = admin.with_raw_response.sites.create(name="North")
    assert created.status_code == 201
    assert created.headers["Location"] == f"/api/sites/{created.parse().id}"
    deleted = admin.sites.with_raw_response.delete(created.parse().id)
    assert (deleted.status_code, deleted.parse()) == (204, None)
    assert admin.with_raw_response.me().parse().user.username == "acme-admin"


def test_the_raw_response_of_a_list_is_its_first_page(server: InProcess) -> None:
    incidents(server, "firewall", 4)
    admin = client(server)
    admin.me()
    seen = recorded(server)
    raw = admin.with_raw_response.incidents.list(check_type="firewall", limit=2)
    page: SyncPage[Incident] = raw.parse()
    assert (len(page), page.total) == (2, 4)  # PC-1's is the seeded one
    assert page.response is not None
    assert page.request_id == raw.request_id
    assert len(seen) == 1


def test_a_with_options_copy_has_its_own_raw_view(server: InProcess) -> None:
    admin = client(server)
    assert admin.with_raw_response is admin.with_raw_response  # built once
    seen = recorded(server)
    quick = admin.with_options(timeout=3.0)
    assert quick.with_raw_response is not admin.with_raw_response
    quick.with_raw_response.sites.get(server.seeded.site_id)
    assert seen[-1].extensions["timeout"]["read"] == 3.0
    admin.with_raw_response.sites.get(server.seeded.site_id)
    assert seen[-1].extensions["timeout"]["read"] == 60.0


def test_raw_views_of_the_twins_match() -> None:
    sync, asynchronous = (
        ComplianceClient(BASE, token="t"),
        AsyncComplianceClient(BASE, token="t"),
    )
    assert isinstance(sync.with_raw_response, ComplianceClientWithRawResponse)
    assert isinstance(asynchronous.with_raw_response, AsyncComplianceClientWithRawResponse)
    assert set(vars(sync.with_raw_response)) == set(vars(asynchronous.with_raw_response))
    assert set(vars(sync.with_raw_response)) - {"_client"} == {"me", "login", *RESOURCES}
    for name in RESOURCES:
        resource, twin = getattr(sync, name), getattr(asynchronous, name)
        public = {n for n in dir(resource) if not n.startswith("_")} - {"with_raw_response"}
        assert public == {n for n in dir(twin) if not n.startswith("_")} - {"with_raw_response"}
        # every public method of a resource has its raw twin, in both clients
        assert public == set(vars(resource.with_raw_response)), name
        assert public == set(vars(twin.with_raw_response)), name
        assert getattr(sync.with_raw_response, name) is resource.with_raw_response


# -- pages ---------------------------------------------------------------------------------
def test_the_first_page_is_fetched_at_the_call_and_keeps_the_filters(server: InProcess) -> None:
    incidents(server, "firewall", 7)  # PC-1's is the seeded one, updated
    incidents(server, "bitlocker", 3)
    operator = client(server, "operator")
    operator.me()
    seen = recorded(server)
    first = operator.incidents.list(check_type="firewall", resolved=False, limit=3)
    assert len(seen) == 1  # before any loop step
    assert (len(first), first.total, first.has_next_page()) == (3, 7, True)
    assert first.request_id is not None
    second = first.get_next_page()
    assert second.params == {"check_type": "firewall", "resolved": "false", "limit": 3, "offset": 3}
    third = second.get_next_page()
    assert (len(third), third.has_next_page()) == (1, False)
    with pytest.raises(SDKError, match="last page"):
        third.get_next_page()
    assert [len(p) for p in first.iter_pages()] == [3, 3, 1]
    assert {i.check_type for i in first} == {"firewall"}
    assert len(list(second)) == 4  # from the second page on
    later = operator.incidents.list(limit=4, offset=8)  # 10 in all: starts further on
    assert (len(later), later.total, later.has_next_page()) == (2, 10, False)
    # code written against the older paginator still runs
    assert first.first_page() is first
    assert [len(p) for p in first.pages()] == [3, 3, 1]


def test_a_refused_filter_fails_at_the_call(server: InProcess) -> None:
    admin = client(server)
    elsewhere = client(server, "intruder")
    with pytest.raises(NotFoundError) as caught:
        elsewhere.incidents.list(site_id=server.seeded.site_id)  # another partner's site
    assert caught.value.code == "SITE_NOT_FOUND"
    assert admin.incidents.list(site_id=server.seeded.site_id).total == 1


async def test_async_pages_raw_responses_and_options_over_a_socket(live: Live) -> None:
    async with httpx.AsyncClient(event_hooks=async_contract_hooks(live.contract)) as http:
        admin = AsyncComplianceClient(
            live.url, username="acme-admin", password=PASSWORD, http_client=http
        )
        site = live.seeded.site_id
        for name in ("A", "B", "C"):
            await admin.sites.create(name=f"Async {name}")
        page: AsyncPage[Site] = await admin.sites.list(limit=2)
        assert (len(page), page.total, page.has_next_page()) == (2, 4, True)
        assert [len(p) async for p in page.iter_pages()] == [2, 2]
        names = [s.name async for s in admin.sites.list(limit=3, timeout=5)]
        assert names == ["Async A", "Async B", "Async C", "Riverside Clinic"]
        raw = await admin.with_raw_response.incidents.list(site_id=site)
        assert [i.id for i in raw.parse().items] == [live.seeded.incident_id]
        got = await admin.sites.with_raw_response.get(site, extra_headers={"X-Request-ID": "a-1"})
        assert (got.request_id, got.parse().id) == ("a-1", site)
        token = await admin.sites.create_enrollment_token(site)
        again = await admin.with_raw_response.sites.revoke_enrollment_token(site, token.id)
        assert again.parse().status == "revoked"
        with pytest.raises(InputValidationError) as caught:
            admin.incidents.list(limit=0)  # refused at the call, before any await
        assert caught.value.field == "limit"
        for s in [s async for s in admin.sites.list()]:
            if s.name.startswith("Async"):
                await admin.sites.delete(s.id)


# -- omitted is not null -------------------------------------------------------------------
def test_left_out_is_not_sent_and_none_is_left_out_too(server: InProcess) -> None:
    """No compliance request field may be null (the contract): NOT_GIVEN and None
    both leave it out, and the server keeps or defaults it."""
    admin = client(server)
    site = server.seeded.site_id
    seen = recorded(server)
    admin.sites.create_enrollment_token(site)
    admin.sites.create_enrollment_token(site, description=None, max_uses=None)
    admin.sites.create_enrollment_token(site, description="GPO", max_uses=2)
    admin.sites.update(site, name="Riverside Clinic", capability_tier="full_remediation")
    kept = admin.sites.update(site, name="Riverside", capability_tier=None)
    assert kept.capability_tier == "full_remediation"
    bodies = [json.loads(r.content) for r in seen if r.method in ("POST", "PUT")]
    assert bodies == [
        {},
        {},
        {"description": "GPO", "max_uses": 2},
        {"name": "Riverside Clinic", "capability_tier": "full_remediation"},
        {"name": "Riverside"},
    ]


# -- what may be sent again ----------------------------------------------------------------
class LoseAnswerOnce(httpx.BaseTransport):
    """Sends each request to the server, and once, for a path ending with
    ``suffix``, answers 503 instead of what the server said (the server acted)."""

    def __init__(self, suffix: str) -> None:
        self.inner = httpx.HTTPTransport()
        self.suffix = suffix
        self.sent: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        self.sent.append(request.url.path)
        if request.url.path.endswith(self.suffix) and self.sent.count(request.url.path) == 1:
            response.close()
            body = {"detail": "lost on the way", "status": "error", "code": "UNAVAILABLE"}
            return httpx.Response(503, json=body, request=request)
        return response

    def close(self) -> None:
        self.inner.close()


def lossy(live: Live, suffix: str) -> tuple[ComplianceClient, LoseAnswerOnce]:
    transport = LoseAnswerOnce(suffix)
    admin = ComplianceClient(
        live.url,
        username="acme-admin",
        password=PASSWORD,
        http_client=httpx.Client(transport=transport),
        sleep=lambda seconds: None,
    )
    return admin, transport


def test_a_revoke_whose_answer_was_lost_is_sent_again(live: Live) -> None:
    """Revoking a revoked token answers the same record (the contract), so a
    revoke is retried like a GET; an escalation, not safe to repeat, is not."""
    admin, transport = lossy(live, "/revoke")
    site = live.seeded.site_id
    token = admin.sites.create_enrollment_token(site)
    revoked = admin.sites.revoke_enrollment_token(site, token.id)
    assert revoked.status == "revoked"
    assert transport.sent.count(f"/api/sites/{site}/enrollment-tokens/{token.id}/revoke") == 2
    admin, transport = lossy(live, "/notifications")
    with pytest.raises(InternalServerError):
        admin.escalations.create(site_id=site, subject="once", message="only once")
    assert transport.sent.count("/api/escalation/notifications") == 1


def test_the_oauth_callback_is_not_sent_twice(live: Live) -> None:
    """Its state is single-use: sent again after a lost answer, the callback
    could only say OAUTH_STATE_INVALID, hiding what the first one did."""
    admin, transport = lossy(live, "/oauth/callback")
    oauth = admin.integrations.start_oauth(live.seeded.site_id, provider="google_workspace")
    with pytest.raises(InternalServerError):
        admin.integrations.complete_oauth(state=oauth.state, error="access_denied")
    assert transport.sent.count("/api/integrations/oauth/callback") == 1
    with pytest.raises(BadRequestError) as spent:  # the lost attempt spent the state
        admin.integrations.complete_oauth(state=oauth.state, error="access_denied")
    assert spent.value.code == "OAUTH_STATE_INVALID"


# -- environment and repr --------------------------------------------------------------------
def test_the_environment_configures_a_client_and_reprs_hold_no_secret(
    server: InProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMPLIANCE_BASE_URL", BASE)
    monkeypatch.setenv("COMPLIANCE_USERNAME", "acme-viewer")
    monkeypatch.setenv("COMPLIANCE_PASSWORD", PASSWORD)
    viewer = ComplianceClient(http_client=server.http)
    assert viewer.me().user.username == "acme-viewer"
    assert repr(viewer) == (
        "ComplianceClient(base_url='http://127.0.0.1:8080/', auth=TokenAuth(SessionLogin), "
        "timeout=Timeout(connect=10.0, read=60.0, write=60.0, pool=60.0), max_retries=2)"
    )
    assert viewer._auth is not None
    session = viewer._auth.token.access_token.reveal()  # type: ignore[attr-defined]
    for text in (repr(viewer), repr(viewer._auth), repr(viewer._auth.provider)):  # type: ignore[attr-defined]
        assert PASSWORD not in text
        assert session not in text
    monkeypatch.setenv("COMPLIANCE_TOKEN", session)  # a token wins over the env's password
    by_token = AsyncComplianceClient()
    assert "StaticAuth(Authorization)" in repr(by_token)
    assert session not in repr(by_token)
    with pytest.raises(InputValidationError) as both:
        ComplianceClient(username="u", token="t")
    assert both.value.field == "token"
    monkeypatch.delenv("COMPLIANCE_BASE_URL")
    with pytest.raises(InputValidationError) as nowhere:
        ComplianceClient()
    assert nowhere.value.field == "base_url"
