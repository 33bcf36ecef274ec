"""The client's options, raw responses and connection hygiene."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import warnings

import httpx
import pytest
import respx

from sdk_core import (
    APIResponse,
    AsyncAPIClient,
    BaseModel,
    InternalServerError,
    NotFoundError,
    RawResponseProxy,
    SyncAPIClient,
    SyncAPIResource,
    __version__,
    to_raw_response_wrapper,
)
from tests.support import FakeClock, LocalServer

BASE = "https://api.example.test/v1"


class Item(BaseModel):
    id: str
    name: str


class Items(SyncAPIResource):
    def get(self, item_id: str) -> Item:
        return self._client.request("GET", f"/items/{item_id}", cast_to=Item)


class DemoClient(SyncAPIClient):
    package_name = "demo_sdk"
    package_version = "9.9.9"

    @property
    def items(self) -> Items:
        return Items(self)


@respx.mock
def test_user_agent_and_default_headers() -> None:
    route = respx.get(f"{BASE}/items/1").mock(
        return_value=httpx.Response(200, json={"id": "1", "name": "a"})
    )
    DemoClient(base_url=BASE, default_headers={"X-Tenant": "acme"}).items.get("1")
    headers = route.calls[0].request.headers
    assert headers["User-Agent"].startswith(f"demo_sdk/9.9.9 (sdk_core/{__version__}; python/")
    assert headers["X-Tenant"] == "acme"
    assert headers["Accept"] == "application/json"


@respx.mock
def test_base_url_path_is_kept() -> None:
    route = respx.get("https://api.example.test/v1/items/1").mock(
        return_value=httpx.Response(200, json={"id": "1", "name": "a"})
    )
    DemoClient(base_url="https://api.example.test/v1").items.get("1")
    assert route.called


@respx.mock
def test_unknown_fields_are_kept() -> None:
    respx.get(f"{BASE}/items/1").mock(
        return_value=httpx.Response(200, json={"id": "1", "name": "a", "colour": "red"})
    )
    item = DemoClient(base_url=BASE).items.get("1")
    assert item.model_extra == {"colour": "red"}
    assert item.colour == "red"  # type: ignore[attr-defined]


@respx.mock
def test_with_options_is_a_cheap_copy_sharing_the_pool() -> None:
    route = respx.get(f"{BASE}/items/1").mock(
        side_effect=[httpx.Response(500), httpx.Response(200, json={"id": "1", "name": "a"})]
    )
    client = DemoClient(base_url=BASE, max_retries=3, sleep=lambda s: None)
    no_retry = client.with_options(max_retries=0, timeout=5.0, default_headers={"X-A": "1"})
    assert no_retry._http is client._http
    assert client.items._client is client
    assert no_retry.items._client is no_retry
    with pytest.raises(InternalServerError):
        no_retry.items.get("1")
    assert route.calls[0].request.extensions["timeout"]["read"] == 5.0
    assert route.calls[0].request.headers["X-A"] == "1"
    assert client.max_retries == 3
    assert client.items.get("1").id == "1"
    no_retry.close()
    assert not client.is_closed  # the copy does not own the pool
    client.close()
    assert client.is_closed


def test_the_clock_sleep_and_rand_given_are_readable_not_writable() -> None:
    """Code built on a client (a worker, a reconnecting socket) waits on the
    client's own time: what was given, on the client and on its copies."""
    clock = FakeClock()

    def rand() -> float:
        return 0.25

    client = DemoClient(base_url=BASE, clock=clock, sleep=clock.sleep, rand=rand)
    copy = client.with_options(max_retries=0)
    for each in (client, copy):
        assert (each.clock, each.sleep, each.rand) == (clock, clock.sleep, rand)
    with pytest.raises(AttributeError):
        client.clock = FakeClock()  # type: ignore[misc]
    plain = DemoClient(base_url=BASE)
    assert plain.sleep is time.sleep
    assert plain.clock.monotonic() <= time.monotonic()
    assert 0.0 <= plain.rand() < 1.0
    aclient = AsyncAPIClient(base_url=BASE, clock=clock, sleep=clock.async_sleep)
    assert (aclient.clock, aclient.sleep) == (clock, clock.async_sleep)
    assert AsyncAPIClient(base_url=BASE).sleep is asyncio.sleep


def test_context_managers_close_their_pool() -> None:
    with DemoClient(base_url=BASE) as client:
        pass
    assert client.is_closed


async def test_async_context_manager_closes_its_pool() -> None:
    async with AsyncAPIClient(base_url=BASE) as client:
        pass
    assert client.is_closed


def test_user_supplied_http_client_is_used_and_left_open() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"id": "1", "name": "a"}))
    http = httpx.Client(transport=transport)
    with DemoClient(base_url=BASE, http_client=http) as client:
        assert client.items.get("1").name == "a"
    assert not http.is_closed
    http.close()


@respx.mock
def test_raw_response_gives_status_headers_request_id_rate_limit_retries() -> None:
    respx.get(f"{BASE}/items/1").mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(
                200,
                json={"id": "1", "name": "a"},
                headers={"X-Request-ID": "abc", "X-RateLimit-Remaining": "7"},
            ),
        ]
    )
    clock = FakeClock()
    client = DemoClient(base_url=BASE, sleep=clock.sleep, clock=clock, rand=lambda: 1.0)
    raw = client.with_raw_response.items.get("1")
    assert isinstance(raw, APIResponse)
    assert raw.status_code == 200
    assert raw.request_id == "abc"
    assert raw.rate_limit.remaining == 7
    assert raw.retries_taken == 1
    assert raw.elapsed == pytest.approx(0.5)
    assert raw.headers["x-request-id"] == "abc"
    assert raw.parse().name == "a"


@respx.mock
def test_typed_raw_wrapper() -> None:
    respx.get(f"{BASE}/items/1").mock(
        return_value=httpx.Response(200, json={"id": "1", "name": "a"}, headers={"request-id": "q"})
    )
    client = DemoClient(base_url=BASE)
    raw = to_raw_response_wrapper(client.items.get)("1")
    assert raw.request_id == "q"
    assert raw.parse().id == "1"


@respx.mock
def test_debug_log_line(caplog: pytest.LogCaptureFixture) -> None:
    respx.get(f"{BASE}/items/1").mock(
        return_value=httpx.Response(
            200, json={"id": "1", "name": "a"}, headers={"X-Request-ID": "rid-5"}
        )
    )
    with caplog.at_level(logging.DEBUG, logger="demo_sdk"):
        DemoClient(base_url=BASE).items.get("1")
    line = next(r.getMessage() for r in caplog.records if r.name == "demo_sdk")
    assert line.startswith("GET https://api.example.test/v1/items/1 -> 200 in ")
    assert "request id rid-5" in line


# -- over a real socket ---------------------------------------------------------
def _pool_connections(client: SyncAPIClient) -> list[object]:
    return list(client._http._transport._pool.connections)  # type: ignore[attr-defined]


def test_no_connection_left_open_after_failures(local_server: LocalServer) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        client = SyncAPIClient(base_url=local_server.url, max_retries=2, sleep=lambda s: None)
        for _ in range(5):
            with pytest.raises(InternalServerError):
                client.request("GET", "/fail/503", cast_to=dict)
            with pytest.raises(NotFoundError):
                client.request("GET", "/fail/404", cast_to=dict, stream=True)
            with pytest.raises(InternalServerError):
                client.request("POST", "/fail/500", json={}, cast_to=dict, stream=True)
        connections = _pool_connections(client)
        assert connections, "keep-alive connections are expected in the pool"
        assert all(c.is_idle() for c in connections)  # type: ignore[attr-defined]
        assert client.request("GET", "/items/7", cast_to=dict)["id"] == "7"
        client.close()
        gc.collect()


async def test_async_no_connection_left_open_after_failures(local_server: LocalServer) -> None:
    async with AsyncAPIClient(base_url=local_server.url, max_retries=1, sleep=_no_sleep) as client:
        for _ in range(5):
            with pytest.raises(InternalServerError):
                await client.request("GET", "/fail/502", cast_to=dict, stream=True)
        connections = list(client._http._transport._pool.connections)  # type: ignore[attr-defined]
        assert connections
        assert all(c.is_idle() for c in connections)


async def _no_sleep(seconds: float) -> None:
    return None


def test_env_var_turns_on_debug_lines_without_secrets() -> None:
    import os
    import subprocess
    import sys

    code = (
        "import httpx\n"
        "from sdk_core import SyncAPIClient, StaticAuth\n"
        "t = httpx.MockTransport(lambda r: httpx.Response(200, json={}, headers={'X-Request-ID': 'z9'}))\n"
        "c = SyncAPIClient(base_url='https://h.test', auth=StaticAuth('very-secret-token'),\n"
        "                  http_client=httpx.Client(transport=t))\n"
        "c.request('GET', '/x', params={'api_key': 'very-secret-key'}, cast_to=dict)\n"
    )
    env = {**os.environ, "SDK_CORE_LOG": "debug"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=True,
    )
    # issue 17: the mask reads [REDACTED], not its URL-escaped %5BREDACTED%5D
    assert "GET https://h.test/x?api_key=[REDACTED] -> 200 in" in done.stderr
    assert "%5B" not in done.stderr
    assert "request id z9" in done.stderr
    assert "very-secret" not in done.stderr


@respx.mock
async def test_async_raw_response_through_the_proxy() -> None:
    from sdk_core import AsyncAPIResource

    class AsyncItems(AsyncAPIResource):
        async def get(self, item_id: str) -> Item:
            return await self._client.request("GET", f"/items/{item_id}", cast_to=Item)

    respx.get(f"{BASE}/items/1").mock(
        return_value=httpx.Response(
            200, json={"id": "1", "name": "a"}, headers={"X-Request-ID": "ar-1"}
        )
    )
    async with AsyncAPIClient(base_url=BASE) as client:
        items = AsyncItems(client)
        raw = await RawResponseProxy(items).get("1")
    assert raw.request_id == "ar-1"
    assert raw.parse().name == "a"
