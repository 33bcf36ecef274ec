"""The suite's conventions on KubeNexus: per-call options, typed raw responses,
pages, NOT_GIVEN against None, the login answer's user, remember_me, and the
document's pagination on every list."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from kubenexus_sdk import (
    APIResponse,
    AsyncPage,
    BadRequestError,
    ClientClosedError,
    Cluster,
    KubeNexusClient,
    SDKError,
    SyncPage,
    User,
)
from tests.kubenexus_sdk.conftest import make_async_client, make_client
from tests.kubenexus_sdk.fake_kubenexus import FakeKubeNexus, fail
from tests.support import FakeClock


def last(platform: FakeKubeNexus, path: str) -> httpx.Request:
    return [r for r in platform.requests if r.url.path == path][-1]


# -- per-call options ---------------------------------------------------------------
def test_per_call_timeout_headers_and_query_reach_the_request(
    client: KubeNexusClient, platform: FakeKubeNexus
) -> None:
    cluster = client.clusters.get(
        1, timeout=4.5, extra_headers={"X-Trace": "t-1"}, extra_query={"expand": "tags"}
    )
    assert cluster.id == 1
    sent = last(platform, "/api/clusters/1")
    assert sent.extensions["timeout"]["read"] == 4.5
    assert sent.headers["X-Trace"] == "t-1"
    assert sent.url.params["expand"] == "tags"
    client.clusters.get(1)
    plain = last(platform, "/api/clusters/1")
    assert plain.extensions["timeout"]["read"] == 60.0  # the client's, again
    assert "X-Trace" not in plain.headers


def test_idempotency_key_makes_a_create_retryable(
    client: KubeNexusClient, platform: FakeKubeNexus
) -> None:
    client.login()
    platform.forced.append(fail(503, "UNAVAILABLE", "busy"))
    created = client.clusters.create(
        name="keyed", cluster_type="eks", cloud_provider_id=7, idempotency_key="create-keyed-1"
    )
    assert created.name == "keyed"
    posts = [r for r in platform.requests if r.url.path == "/api/clusters" and r.method == "POST"]
    assert [r.headers["Idempotency-Key"] for r in posts] == ["create-keyed-1"] * 2


def test_without_a_key_a_create_is_not_sent_twice(
    client: KubeNexusClient, platform: FakeKubeNexus
) -> None:
    client.login()
    platform.forced.append(fail(503, "UNAVAILABLE", "busy"))
    with pytest.raises(SDKError):
        client.clusters.create(name="once", cluster_type="eks", cloud_provider_id=7)
    posts = [r for r in platform.requests if r.url.path == "/api/clusters" and r.method == "POST"]
    assert len(posts) == 1


def test_list_options_apply_to_every_page(client: KubeNexusClient, platform: FakeKubeNexus) -> None:
    names = [c.name for c in client.clusters.list(limit=20, extra_headers={"X-Trace": "all"})]
    assert len(names) == 45
    sent = [r for r in platform.requests if r.url.path == "/api/clusters"]
    assert [r.headers["X-Trace"] for r in sent] == ["all"] * 3


# -- raw responses, typed ---------------------------------------------------------------
def test_raw_response_of_a_get_is_typed_and_has_the_headers(client: KubeNexusClient) -> None:
    raw: APIResponse[Cluster] = client.clusters.with_raw_response.get(1)
    cluster: Cluster = raw.parse()
    assert cluster.id == 1
    assert raw.status_code == 200
    assert raw.rate_limit.limit == 1000


def test_raw_response_of_a_list_is_its_first_page(
    client: KubeNexusClient, platform: FakeKubeNexus
) -> None:
    raw = client.clusters.with_raw_response.list(limit=20)
    page: SyncPage[Cluster] = raw.parse()
    assert len(page.items) == 20
    assert raw.headers["X-RateLimit-Limit"] == "1000"
    assert page.response is not None
    assert page.response.rate_limit.remaining == raw.rate_limit.remaining
    assert len([r for r in platform.requests if r.url.path == "/api/clusters"]) == 1


# -- pages -----------------------------------------------------------------------------------
def test_the_first_page_is_fetched_at_the_call(
    client: KubeNexusClient, platform: FakeKubeNexus
) -> None:
    client.login()
    platform.forced.append(fail(400, "BAD_FILTER", "unknown status 'gone'"))
    with pytest.raises(BadRequestError):
        client.clusters.list(status="gone")  # fails here, not at the first loop step


def test_page_navigation(client: KubeNexusClient, platform: FakeKubeNexus) -> None:
    first = client.clusters.list(limit=20, sort="name")
    assert (len(first), first.total, first.has_next_page()) == (20, 45, True)
    second = first.get_next_page()
    assert second.params["page"] == 2
    third = second.get_next_page()
    assert (len(third), third.has_next_page()) == (5, False)
    with pytest.raises(SDKError, match="last page"):
        third.get_next_page()
    assert [len(p) for p in first.iter_pages()] == [20, 20, 5]
    assert first.request_id is None  # the fake sends none; the page still has headers
    assert first.headers["X-RateLimit-Limit"] == "1000"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("roles", "/api/roles"),
        ("webhooks", "/api/webhooks"),
        ("list_anomalies", "/api/sre/anomalies"),
        ("list_recommendations", "/api/sre/recommendations"),
        ("list_problems", "/api/sre/problems"),
    ],
)
def test_every_list_takes_page_limit_sort_order(
    client: KubeNexusClient, platform: FakeKubeNexus, method: str, path: str
) -> None:
    lister = {
        "roles": client.roles.list,
        "webhooks": client.webhooks.list,
        "list_anomalies": client.sre.list_anomalies,
        "list_recommendations": client.sre.list_recommendations,
        "list_problems": client.sre.list_problems,
    }[method]
    lister(page=2, limit=5, sort="id", order="desc")
    assert dict(last(platform, path).url.params) == {
        "page": "2",
        "limit": "5",
        "sort": "id",
        "order": "desc",
    }


async def test_async_list_awaited_is_the_first_page(
    routes: respx.Router, platform: FakeKubeNexus, clock: FakeClock
) -> None:
    async with make_async_client(clock) as client:
        first: AsyncPage[Cluster] = await client.clusters.list(limit=20)
        assert (len(first), first.has_next_page()) == (20, True)
        second = await first.get_next_page()
        assert second.params["page"] == 2
        names = [c.name async for c in first]
        raw = await client.clusters.with_raw_response.list(limit=40)
        assert len(raw.parse().items) == 40
    assert len(names) == 45


# -- NOT_GIVEN and None ---------------------------------------------------------------------
def test_none_clears_a_nullable_field_and_omitted_fields_are_not_sent(
    client: KubeNexusClient, platform: FakeKubeNexus
) -> None:
    client.clusters.patch(1, description="temporary")
    cleared = client.clusters.patch(1, description=None)
    assert json.loads(last(platform, "/api/clusters/1").content) == {"description": None}
    assert cleared.description is None
    client.clusters.patch(1, region="eu-central-1")
    assert json.loads(last(platform, "/api/clusters/1").content) == {"region": "eu-central-1"}


def test_none_for_a_field_the_api_does_not_null_is_left_out(
    client: KubeNexusClient, platform: FakeKubeNexus
) -> None:
    client.clusters.create(name="n", cluster_type="eks", cloud_provider_id=7, region=None)  # type: ignore[arg-type]
    assert "region" not in json.loads(last(platform, "/api/clusters").content)


def test_profile_names_can_be_cleared(client: KubeNexusClient, platform: FakeKubeNexus) -> None:
    me = client.users.update_me(first_name=None)
    assert json.loads(last(platform, "/api/users/me/profile").content) == {"first_name": None}
    assert me.first_name is None


# -- login answer and remember_me --------------------------------------------------------------
def test_login_answer_user_is_kept_and_reachable(
    client: KubeNexusClient, platform: FakeKubeNexus, clock: FakeClock
) -> None:
    before = client.current_user
    assert before is None
    result = client.login()
    assert isinstance(result.user, User)
    assert result.user.username == "ada"
    assert result.token_type == "bearer"
    assert client.current_user == result.user
    clock.advance(3_550)
    client.clusters.get(1)  # refreshed: the refresh answer keeps the user
    assert len(platform.refreshes) == 1
    after = client.current_user
    assert after is not None
    assert after.username == "ada"
    assert len(platform.logins) == 1


def test_login_is_refused_for_an_api_key_client(clock: FakeClock, routes: respx.Router) -> None:
    with make_client(clock, api_key="k") as client, pytest.raises(SDKError, match="API key"):
        client.login()


@pytest.mark.parametrize("remember", [True, False])
def test_remember_me_is_sent_with_the_login(
    clock: FakeClock, routes: respx.Router, platform: FakeKubeNexus, remember: bool
) -> None:
    with make_client(clock, remember_me=remember) as client:
        client.clusters.get(1)
    assert json.loads(platform.logins[0].content)["remember_me"] is remember


async def test_async_login(routes: respx.Router, clock: FakeClock) -> None:
    async with make_async_client(clock) as client:
        result = await client.login()
        assert result.user is not None
        assert client.current_user == result.user


# -- lifecycle and repr ----------------------------------------------------------------------------
def test_repr_shows_the_settings_and_no_secret(clock: FakeClock, routes: respx.Router) -> None:
    client = make_client(clock)
    text = repr(client)
    assert text.startswith("KubeNexusClient(base_url='https://api.kubenexus.example.com/'")
    assert "auth=TokenAuth(PasswordLogin)" in text
    assert "max_retries=3" in text
    assert "correct-horse" not in text
    client.close()
    assert text != repr(client)
    assert repr(client).endswith(", closed)")
    with pytest.raises(ClientClosedError, match="closed"):
        client.clusters.get(1)
