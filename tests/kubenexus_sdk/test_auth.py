"""Login, refresh, re-login, API keys, logout and password change."""

from __future__ import annotations

import json
from typing import Any

import pytest
import respx

from kubenexus_sdk import (
    AuthenticationError,
    BadRequestError,
    Client,
    ErrorCode,
    InputValidationError,
    KubeNexusClient,
    SDKError,
)
from tests.kubenexus_sdk.conftest import make_async_client, make_client
from tests.kubenexus_sdk.fake_kubenexus import API_KEY, BASE, PASSWORD, FakeKubeNexus
from tests.support import FakeClock


def test_login_then_bearer(client: KubeNexusClient, platform: FakeKubeNexus) -> None:
    client.clusters.get(1)
    assert json.loads(platform.logins[0].content) == {"username": "ada", "password": PASSWORD}
    assert platform.requests[-1].headers["Authorization"].startswith("Bearer eyJ.access.")


def test_client_alias_is_the_documented_name() -> None:
    assert Client is KubeNexusClient


def test_refresh_ahead_of_expiry(
    client: KubeNexusClient, platform: FakeKubeNexus, clock: FakeClock
) -> None:
    client.clusters.get(1)
    clock.advance(3_550)  # 50 s left: inside the 60 s margin
    client.clusters.get(1)
    assert len(platform.logins) == 1
    assert len(platform.refreshes) == 1
    assert json.loads(platform.refreshes[0].content) == {"refresh_token": "refresh-46"}


def test_token_expired_then_refresh_then_replay(
    client: KubeNexusClient, platform: FakeKubeNexus, clock: FakeClock
) -> None:
    client.clusters.get(1)
    token = platform.requests[-1].headers["Authorization"].removeprefix("Bearer ")
    platform.access[token] = clock.monotonic()  # the server expires it early: TOKEN_EXPIRED
    cluster = client.clusters.get(2)
    assert cluster.id == 2
    assert len(platform.refreshes) == 1
    statuses = [r.url.path for r in platform.requests[-4:]]
    assert statuses == ["/api/clusters/1", "/api/clusters/2", "/auth/refresh", "/api/clusters/2"]


def test_refused_refresh_falls_back_to_a_fresh_login(
    client: KubeNexusClient, platform: FakeKubeNexus, clock: FakeClock
) -> None:
    client.clusters.get(1)
    platform.refresh.clear()  # refresh tokens revoked
    clock.advance(3_601)
    assert client.clusters.get(1).id == 1
    assert len(platform.refreshes) == 1
    assert len(platform.logins) == 2


def test_token_expiring_mid_iteration(
    client: KubeNexusClient, platform: FakeKubeNexus, clock: FakeClock
) -> None:
    seen = []
    for cluster in client.clusters.list(limit=10):
        seen.append(cluster.id)
        if len(seen) == 15:
            clock.advance(3_700)  # expires between page 2 and page 3
    assert len(seen) == 45
    assert len(set(seen)) == 45
    assert len(platform.refreshes) == 1
    pages = [r.url.params["page"] for r in platform.requests if r.url.path == "/api/clusters"]
    assert pages == ["1", "2", "3", "4", "5"]


def test_wrong_password_is_invalid_credentials(routes: respx.Router, clock: FakeClock) -> None:
    with pytest.raises(AuthenticationError) as info:
        make_client(clock, password="wrong").clusters.get(1)
    assert info.value.code == ErrorCode.INVALID_CREDENTIALS


def test_api_key(routes: respx.Router, platform: FakeKubeNexus, clock: FakeClock) -> None:
    client = make_client(clock, api_key=API_KEY)
    assert client.clusters.get(1).id == 1
    assert platform.requests[-1].headers["X-API-Key"] == API_KEY
    assert "authorization" not in platform.requests[-1].headers
    assert platform.logins == []
    with pytest.raises(SDKError, match="API key"):
        client.logout()


def test_configuration_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBENEXUS_BASE_URL", "https://kn.example.org")
    monkeypatch.setenv("KUBENEXUS_API_KEY", "kn-key")
    client = KubeNexusClient()
    assert str(client.base_url) == "https://kn.example.org/"
    assert "kn-key" not in repr(client.auth)
    monkeypatch.delenv("KUBENEXUS_API_KEY")
    monkeypatch.setenv("KUBENEXUS_USERNAME", "bob")
    monkeypatch.setenv("KUBENEXUS_PASSWORD", "hunter2hunter2")
    client = KubeNexusClient()
    assert "hunter2hunter2" not in repr(client.auth)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "base_url"),
        ({"base_url": BASE}, "username"),
        ({"base_url": BASE, "username": "a"}, "password"),
        ({"base_url": BASE, "username": "a", "password": "b", "api_key": "k"}, "api_key"),
    ],
)
def test_missing_configuration(
    monkeypatch: pytest.MonkeyPatch, kwargs: dict[str, Any], field: str
) -> None:
    for var in (
        "KUBENEXUS_BASE_URL",
        "KUBENEXUS_USERNAME",
        "KUBENEXUS_PASSWORD",
        "KUBENEXUS_API_KEY",
    ):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(InputValidationError) as info:
        KubeNexusClient(**kwargs)
    assert info.value.field == field


def test_logout_forgets_the_session(client: KubeNexusClient, platform: FakeKubeNexus) -> None:
    client.clusters.get(1)
    client.logout()
    assert platform.requests[-1].url.path == "/auth/logout"
    assert not platform.access  # the server dropped the token
    client.clusters.get(1)
    assert len(platform.logins) == 2


def test_change_password(client: KubeNexusClient, platform: FakeKubeNexus) -> None:
    client.change_password(PASSWORD, "a-new-long-password")
    assert platform.password == "a-new-long-password"
    with pytest.raises(InputValidationError, match="new_password"):
        client.change_password("a-new-long-password", "short")
    with pytest.raises(BadRequestError):
        client.change_password("not-the-password", "another-long-one")


async def test_async_auth(routes: respx.Router, platform: FakeKubeNexus, clock: FakeClock) -> None:
    async with make_async_client(clock) as client:
        assert (await client.clusters.get(1)).id == 1
        clock.advance(3_700)
        assert (await client.clusters.get(1)).id == 1
        await client.change_password(PASSWORD, "another-long-password")
        await client.logout()
    assert len(platform.refreshes) == 1
