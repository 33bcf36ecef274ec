"""Construction, auth, rate limits and errors of the Nexthink client."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from nexthink_sdk import (
    AsyncNexthinkClient,
    AuthenticationError,
    InputValidationError,
    NexthinkClient,
    RateLimitError,
    get_rate_limit,
)
from tests.nexthink_sdk.conftest import make_client
from tests.nexthink_sdk.fake_nexthink import CLIENT_ID, FakeNexthink
from tests.support import FakeClock


def test_urls_are_built_from_instance_and_region() -> None:
    c = NexthinkClient("acme", "pac", client_id="i", client_secret="s")
    assert str(c.base_url) == "https://acme.api.pac.nexthink.cloud/"
    assert c.settings.token_url == "https://acme-login.pac.nexthink.cloud/oauth2/default/v1/token"


def test_construction_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEXTHINK_INSTANCE", "globex")
    monkeypatch.setenv("NEXTHINK_REGION", "us")
    monkeypatch.setenv("NEXTHINK_CLIENT_ID", "env-id")
    monkeypatch.setenv("NEXTHINK_CLIENT_SECRET", "env-secret-value")
    c = NexthinkClient()
    assert str(c.base_url) == "https://globex.api.us.nexthink.cloud/"
    assert "env-secret-value" not in repr(c.settings)
    assert "env-secret-value" not in repr(c.auth)


def test_overrides_point_at_a_local_server() -> None:
    c = NexthinkClient(
        client_id="i",
        client_secret="s",
        base_url="http://127.0.0.1:8080",
        token_url="http://127.0.0.1:8080/token",
    )
    assert str(c.base_url) == "http://127.0.0.1:8080/"
    assert c.settings.token_url == "http://127.0.0.1:8080/token"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"instance": "acme", "region": "mars"}, "region"),
        ({"instance": "acme", "region": None}, "region"),
        ({"instance": "ac.me", "region": "eu"}, "instance"),
        ({"instance": None, "region": "eu"}, "instance"),
        ({"instance": "acme", "region": "eu", "client_secret": None}, "client_secret"),
    ],
)
def test_bad_configuration_is_refused(
    monkeypatch: pytest.MonkeyPatch, kwargs: dict[str, Any], field: str
) -> None:
    for var in (
        "NEXTHINK_INSTANCE",
        "NEXTHINK_REGION",
        "NEXTHINK_CLIENT_ID",
        "NEXTHINK_CLIENT_SECRET",
    ):
        monkeypatch.delenv(var, raising=False)
    kwargs = {"client_id": "i", "client_secret": "s", **kwargs}
    with pytest.raises(InputValidationError) as info:
        NexthinkClient(**kwargs)
    assert info.value.field == field


def test_token_request_is_client_credentials_with_the_scope(
    client: NexthinkClient, nexthink: FakeNexthink
) -> None:
    client.nql.execute("#devices")
    request = nexthink.token_requests[0]
    assert request.headers["Authorization"].startswith("Basic ")
    assert b"scope=service%3Aintegration" in request.content
    assert request.url.host == "acme-login.eu.nexthink.cloud"


def test_one_token_for_many_calls_and_a_refresh_5_minutes_ahead(
    client: NexthinkClient, nexthink: FakeNexthink, clock: FakeClock
) -> None:
    for _ in range(5):
        client.nql.execute("#devices")
    assert len(nexthink.token_requests) == 1
    clock.advance(601)  # 299 s of validity left: inside the 5-minute margin
    client.nql.execute("#devices")
    assert len(nexthink.token_requests) == 2


def test_an_expired_token_401_is_refreshed_and_replayed(
    client: NexthinkClient, nexthink: FakeNexthink
) -> None:
    client.nql.execute("#devices")
    nexthink.tokens.clear()  # the server forgets the token (revoked, clock skew)
    assert client.nql.execute("#devices").rows == 3
    assert len(nexthink.token_requests) == 2


def test_wrong_credentials(routes: respx.Router, clock: FakeClock) -> None:
    c = NexthinkClient(
        "acme", "eu", client_id=CLIENT_ID, client_secret="wrong", clock=clock, sleep=clock.sleep
    )
    with pytest.raises(AuthenticationError) as info:
        c.nql.execute("#devices")
    assert info.value.code == "invalid_client"


def test_rate_limit_headers_on_raw_responses(client: NexthinkClient, clock: FakeClock) -> None:
    raw = client.with_raw_response.nql.execute("#devices")
    info = get_rate_limit(raw)
    assert (info.limit, info.remaining) == (100, 99)
    assert info.reset_after == pytest.approx(60)
    assert raw.parse().rows == 3


def test_429_is_retried_after_retry_after_then_raises_with_the_wait(
    client: NexthinkClient, nexthink: FakeNexthink, clock: FakeClock
) -> None:
    def too_many() -> httpx.Response:
        return httpx.Response(
            429,
            json={"code": "TOO_MANY_REQUESTS", "message": "slow down"},
            headers={"Retry-After": "5", "X-Rate-Limit": "100", "X-Rate-Limit-Remaining": "0"},
        )

    nexthink.forced.extend(
        [
            too_many(),
            httpx.Response(200, json={"queryId": "#devices", "rows": 0, "headers": [], "data": []}),
        ]
    )
    assert client.nql.execute("#devices").rows == 0
    assert clock.sleeps == [5.0]
    nexthink.forced.extend([too_many(), too_many(), too_many()])
    with pytest.raises(RateLimitError) as info:
        client.nql.execute("#devices")
    assert info.value.retry_after == 5.0
    assert get_rate_limit(info.value).remaining == 0
    assert info.value.response.headers["X-Rate-Limit"] == "100"
    assert get_rate_limit(info.value.response).limit == 100


def test_406_for_a_bad_accept_is_a_typed_error(client: NexthinkClient) -> None:
    from nexthink_sdk import APIStatusError

    with pytest.raises(APIStatusError) as info:
        client.request(
            "POST",
            "/api/v1/nql/execute",
            json={"queryId": "#ab"},
            headers={"Accept": "text/xml"},
            cast_to=dict,
        )
    assert info.value.status_code == 406


def test_sync_and_async_surfaces_match() -> None:
    sync_c = NexthinkClient("acme", "eu", client_id="i", client_secret="s")
    async_c = AsyncNexthinkClient("acme", "eu", client_id="i", client_secret="s")
    for name in (
        "nql",
        "enrichment",
        "campaigns",
        "remote_actions",
        "workflows",
        "data_management",
    ):
        sync_r, async_r = getattr(sync_c, name), getattr(async_c, name)
        public = {n for n in dir(type(sync_r)) if not n.startswith("_")}
        assert public == {n for n in dir(type(async_r)) if not n.startswith("_")}, name


def test_download_client_is_closed_with_the_client(routes: respx.Router, clock: FakeClock) -> None:
    c = make_client(clock)
    storage = c._download_client()
    c.close()
    assert storage.client.is_closed
