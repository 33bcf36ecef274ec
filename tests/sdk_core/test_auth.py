"""Token managers: single flight, refresh ahead of expiry, 401 replay, secrets kept out of sight."""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import respx

from sdk_core import (
    AsyncAPIClient,
    AuthenticationError,
    ClientCredentials,
    InternalServerError,
    PasswordLogin,
    StaticAuth,
    SyncAPIClient,
    TokenAuth,
)
from tests.support import FakeClock

API = "https://api.example.test"
TOKEN_URL = "https://login.example.test/oauth2/token"
SECRET = "s3cr3t-client-secret-value"


def token_reply(n: int, expires_in: int = 900) -> httpx.Response:
    return httpx.Response(
        200, json={"access_token": f"tok-{n}", "token_type": "Bearer", "expires_in": expires_in}
    )


def credentials_auth(clock: FakeClock, margin: float = 300.0) -> TokenAuth:
    provider = ClientCredentials(
        token_url=TOKEN_URL, client_id="my-id", client_secret=SECRET, scope="service:integration"
    )
    return TokenAuth(provider, refresh_margin=margin, clock=clock)


class Counter:
    def __init__(self) -> None:
        self.n = 0
        self.lock = threading.Lock()

    def next(self) -> int:
        with self.lock:
            self.n += 1
            return self.n


@respx.mock
def test_client_credentials_request_shape(clock: FakeClock) -> None:
    token = respx.post(TOKEN_URL).mock(return_value=token_reply(1))
    api = respx.get(f"{API}/things").mock(return_value=httpx.Response(200, json=[]))
    client = SyncAPIClient(base_url=API, auth=credentials_auth(clock), clock=clock)
    client.request("GET", "/things", cast_to=list)
    sent = token.calls[0].request
    assert sent.headers["Authorization"] == "Basic bXktaWQ6czNjcjN0LWNsaWVudC1zZWNyZXQtdmFsdWU="
    assert sent.content == b"grant_type=client_credentials&scope=service%3Aintegration"
    assert api.calls[0].request.headers["Authorization"] == "Bearer tok-1"


@respx.mock
def test_token_is_reused_until_the_refresh_margin(clock: FakeClock) -> None:
    counter = Counter()
    token = respx.post(TOKEN_URL).mock(side_effect=lambda r: token_reply(counter.next()))
    api = respx.get(f"{API}/things").mock(return_value=httpx.Response(200, json=[]))
    client = SyncAPIClient(base_url=API, auth=credentials_auth(clock, margin=300), clock=clock)
    client.request("GET", "/things", cast_to=list)
    clock.advance(599)  # 301 s left: still outside the 5-minute margin
    client.request("GET", "/things", cast_to=list)
    assert token.call_count == 1
    clock.advance(2)  # 299 s left: refreshed ahead of expiry
    client.request("GET", "/things", cast_to=list)
    assert token.call_count == 2
    assert api.calls[-1].request.headers["Authorization"] == "Bearer tok-2"


@respx.mock
def test_200_threads_at_expiry_cause_exactly_one_token_request(clock: FakeClock) -> None:
    counter = Counter()
    gate = threading.Event()

    def slow_token(request: httpx.Request) -> httpx.Response:
        gate.wait(5)  # hold the single flight open until every thread is queued
        return token_reply(counter.next())

    token = respx.post(TOKEN_URL).mock(side_effect=slow_token)
    respx.get(f"{API}/things").mock(return_value=httpx.Response(200, json=[]))
    client = SyncAPIClient(base_url=API, auth=credentials_auth(clock), clock=clock)
    started = threading.Barrier(201)

    def call() -> None:
        started.wait()
        client.request("GET", "/things", cast_to=list)

    with ThreadPoolExecutor(max_workers=200) as pool:
        futures = [pool.submit(call) for _ in range(200)]
        started.wait()
        threading.Timer(0.3, gate.set).start()
        for f in futures:
            f.result(timeout=30)
    assert token.call_count == 1


@respx.mock
async def test_1000_coroutines_at_expiry_cause_exactly_one_token_request(
    clock: FakeClock,
) -> None:
    counter = Counter()

    async def slow_token(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.05)
        return token_reply(counter.next())

    token = respx.post(TOKEN_URL).mock(side_effect=slow_token)
    api = respx.get(f"{API}/things").mock(return_value=httpx.Response(200, json=[]))
    async with AsyncAPIClient(base_url=API, auth=credentials_auth(clock), clock=clock) as client:
        await asyncio.gather(*(client.request("GET", "/things", cast_to=list) for _ in range(1000)))
        assert token.call_count == 1
        clock.advance(900)  # expired: again 1,000 callers, one refresh
        await asyncio.gather(*(client.request("GET", "/things", cast_to=list) for _ in range(1000)))
    assert token.call_count == 2
    assert api.call_count == 2000


@respx.mock
def test_401_forces_one_refresh_and_one_replay(clock: FakeClock) -> None:
    counter = Counter()
    token = respx.post(TOKEN_URL).mock(side_effect=lambda r: token_reply(counter.next()))
    api = respx.post(f"{API}/query").mock(
        side_effect=[httpx.Response(401), httpx.Response(200, json={"ok": 1})]
    )
    client = SyncAPIClient(base_url=API, auth=credentials_auth(clock), clock=clock)
    assert client.request("POST", "/query", json={"q": "x"}, cast_to=dict) == {"ok": 1}
    assert token.call_count == 2
    assert [c.request.headers["Authorization"] for c in api.calls] == [
        "Bearer tok-1",
        "Bearer tok-2",
    ]
    assert api.calls[1].request.content == b'{"q":"x"}'


@respx.mock
def test_a_second_401_is_an_authentication_error(clock: FakeClock) -> None:
    counter = Counter()
    token = respx.post(TOKEN_URL).mock(side_effect=lambda r: token_reply(counter.next()))
    api = respx.get(f"{API}/things").mock(
        return_value=httpx.Response(401, json={"code": "UNAUTHORIZED", "message": "no"})
    )
    client = SyncAPIClient(base_url=API, auth=credentials_auth(clock), clock=clock)
    with pytest.raises(AuthenticationError) as info:
        client.request("GET", "/things", cast_to=list)
    assert info.value.code == "UNAUTHORIZED"
    assert api.call_count == 2
    assert token.call_count == 2


@respx.mock
async def test_async_401_replay(clock: FakeClock) -> None:
    counter = Counter()
    token = respx.post(TOKEN_URL).mock(side_effect=lambda r: token_reply(counter.next()))
    api = respx.get(f"{API}/things").mock(
        side_effect=[httpx.Response(401), httpx.Response(200, json=[1])]
    )
    async with AsyncAPIClient(base_url=API, auth=credentials_auth(clock), clock=clock) as client:
        assert await client.request("GET", "/things", cast_to=list) == [1]
    assert token.call_count == 2
    assert api.calls[1].request.headers["Authorization"] == "Bearer tok-2"


@respx.mock
def test_failed_early_refresh_keeps_serving_the_valid_token(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    token = respx.post(TOKEN_URL).mock(
        side_effect=[token_reply(1), httpx.Response(503), httpx.ConnectError("down")]
    )
    api = respx.get(f"{API}/things").mock(return_value=httpx.Response(200, json=[]))
    client = SyncAPIClient(base_url=API, auth=credentials_auth(clock), clock=clock)
    client.request("GET", "/things", cast_to=list)
    clock.advance(700)  # inside the margin, 200 s of validity left
    with caplog.at_level(logging.WARNING, logger="sdk_core"):
        client.request("GET", "/things", cast_to=list)
        client.request("GET", "/things", cast_to=list)
    assert token.call_count == 3
    assert [c.request.headers["Authorization"] for c in api.calls] == ["Bearer tok-1"] * 3
    assert "early token refresh failed" in caplog.text


@respx.mock
def test_expired_token_and_failing_endpoint_raise(clock: FakeClock) -> None:
    respx.post(TOKEN_URL).mock(
        side_effect=[token_reply(1), httpx.Response(500, json={"error": "server_error"})]
    )
    respx.get(f"{API}/things").mock(return_value=httpx.Response(200, json=[]))
    client = SyncAPIClient(base_url=API, auth=credentials_auth(clock), clock=clock, max_retries=0)
    client.request("GET", "/things", cast_to=list)
    clock.advance(901)
    with pytest.raises(InternalServerError):
        client.request("GET", "/things", cast_to=list)


@respx.mock
def test_wrong_client_secret_is_an_authentication_error(clock: FakeClock) -> None:
    respx.post(TOKEN_URL).mock(
        return_value=httpx.Response(
            401, json={"error": "invalid_client", "error_description": "bad secret"}
        )
    )
    client = SyncAPIClient(base_url=API, auth=credentials_auth(clock), clock=clock)
    with pytest.raises(AuthenticationError) as info:
        client.request("GET", "/things", cast_to=list)
    assert info.value.code == "invalid_client"
    assert info.value.message == "bad secret"


# -- username/password with refresh token --------------------------------------
LOGIN = f"{API}/auth/login"
REFRESH = f"{API}/auth/refresh"


def password_auth(clock: FakeClock) -> TokenAuth:
    return TokenAuth(
        PasswordLogin(login_url=LOGIN, refresh_url=REFRESH, username="ada", password="pa55word!"),
        refresh_margin=30,
        clock=clock,
    )


def login_reply(n: int) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "access_token": f"jwt-{n}",
            "refresh_token": f"refresh-{n}",
            "token_type": "bearer",
            "expires_in": 3600,
        },
    )


@respx.mock
def test_password_login_then_refresh_with_the_refresh_token(clock: FakeClock) -> None:
    login = respx.post(LOGIN).mock(return_value=login_reply(1))
    refresh = respx.post(REFRESH).mock(
        return_value=httpx.Response(200, json={"access_token": "jwt-2", "expires_in": 3600})
    )
    api = respx.get(f"{API}/api/clusters").mock(return_value=httpx.Response(200, json=[]))
    client = SyncAPIClient(base_url=API, auth=password_auth(clock), clock=clock)
    client.request("GET", "/api/clusters", cast_to=list)
    assert login.calls[0].request.content == b'{"username":"ada","password":"pa55word!"}'
    clock.advance(3590)
    client.request("GET", "/api/clusters", cast_to=list)
    assert refresh.calls[0].request.content == b'{"refresh_token":"refresh-1"}'
    assert api.calls[-1].request.headers["Authorization"] == "Bearer jwt-2"
    clock.advance(3590)  # the refresh token is kept when the answer has none
    client.request("GET", "/api/clusters", cast_to=list)
    assert refresh.calls[1].request.content == b'{"refresh_token":"refresh-1"}'


@respx.mock
def test_refused_refresh_falls_back_to_a_fresh_login(clock: FakeClock) -> None:
    login = respx.post(LOGIN).mock(side_effect=[login_reply(1), login_reply(2)])
    respx.post(REFRESH).mock(return_value=httpx.Response(401, json={"code": "TOKEN_EXPIRED"}))
    api = respx.get(f"{API}/api/clusters").mock(
        side_effect=[
            httpx.Response(200, json=[]),
            httpx.Response(
                401, json={"status": "error", "error": {"code": "TOKEN_EXPIRED", "message": "x"}}
            ),
            httpx.Response(200, json=[]),
        ]
    )
    client = SyncAPIClient(base_url=API, auth=password_auth(clock), clock=clock)
    client.request("GET", "/api/clusters", cast_to=list)
    client.request("GET", "/api/clusters", cast_to=list)
    assert login.call_count == 2
    assert api.calls[-1].request.headers["Authorization"] == "Bearer jwt-2"


@respx.mock
def test_static_api_key_header() -> None:
    api = respx.get(f"{API}/v1/search").mock(return_value=httpx.Response(200, json={}))
    client = SyncAPIClient(
        base_url=API, auth=StaticAuth("key-123", header="X-API-Key", scheme=None)
    )
    client.request("GET", "/v1/search", cast_to=dict)
    assert api.calls[0].request.headers["X-API-Key"] == "key-123"
    assert "key-123" not in repr(client.auth)


# -- secrets stay out of sight -------------------------------------------------
@respx.mock
def test_no_secret_in_repr_or_in_debug_logs(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    respx.post(TOKEN_URL).mock(return_value=token_reply(7))
    respx.post(LOGIN).mock(return_value=login_reply(9))
    respx.get(f"{API}/things").mock(return_value=httpx.Response(200, json=[]))
    auth = credentials_auth(clock)
    pw = password_auth(clock)
    with caplog.at_level(logging.DEBUG):
        client = SyncAPIClient(base_url=API, auth=auth, clock=clock)
        client.request("GET", "/things", cast_to=list, params={"access_token": "tok-in-url"})
        SyncAPIClient(base_url=API, auth=pw, clock=clock).request("GET", "/things", cast_to=list)
        logging.getLogger("sdk_core").debug("auth is %r, token %r", auth, auth.token)
    shown = " ".join([repr(auth), repr(auth.token), repr(pw), repr(pw.token), caplog.text])
    for secret in (SECRET, "tok-7", "jwt-9", "refresh-9", "pa55word!", "tok-in-url"):
        assert secret not in shown
    assert "GET https://api.example.test/things" in caplog.text
