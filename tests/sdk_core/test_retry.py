"""The retry rules: what is retried, how long we wait, and when we give up."""

from __future__ import annotations

import email.utils
from typing import Any, assert_type

import httpx
import pytest
import respx

from sdk_core import (
    APIConnectionError,
    APITimeoutError,
    AsyncAPIClient,
    BaseModel,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    SyncAPIClient,
)
from tests.support import FakeClock

BASE = "https://api.example.test/v1"


class Item(BaseModel):
    id: str


def sync_client(clock: FakeClock, **kw: Any) -> SyncAPIClient:
    kw.setdefault("max_retries", 2)
    return SyncAPIClient(base_url=BASE, clock=clock, sleep=clock.sleep, rand=lambda: 1.0, **kw)


def async_client(clock: FakeClock, **kw: Any) -> AsyncAPIClient:
    kw.setdefault("max_retries", 2)
    return AsyncAPIClient(
        base_url=BASE, clock=clock, sleep=clock.async_sleep, rand=lambda: 1.0, **kw
    )


OK = httpx.Response(200, json={"id": "a"})


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
@respx.mock
def test_retryable_statuses_are_retried_for_get(clock: FakeClock, status: int) -> None:
    route = respx.get(f"{BASE}/items/a").mock(side_effect=[httpx.Response(status), OK])
    item = sync_client(clock).request("GET", "/items/a", cast_to=Item)
    assert_type(item, Item)  # checked by mypy in CI: request() is typed by cast_to
    assert item.id == "a"
    assert route.call_count == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 501])
@respx.mock
def test_other_statuses_are_not_retried(clock: FakeClock, status: int) -> None:
    route = respx.get(f"{BASE}/items/a").mock(return_value=httpx.Response(status))
    with pytest.raises(Exception) as info:
        sync_client(clock).request("GET", "/items/a", cast_to=Item)
    assert getattr(info.value, "status_code", None) == status
    assert route.call_count == 1
    assert clock.sleeps == []


@respx.mock
def test_connection_errors_and_timeouts_are_retried(clock: FakeClock) -> None:
    route = respx.get(f"{BASE}/items/a").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), OK]
    )
    assert sync_client(clock).request("GET", "/items/a", cast_to=Item).id == "a"
    assert route.call_count == 3


@respx.mock
def test_gives_up_after_max_retries_with_the_last_error(clock: FakeClock) -> None:
    route = respx.get(f"{BASE}/items/a").mock(return_value=httpx.Response(503))
    with pytest.raises(InternalServerError) as info:
        sync_client(clock, max_retries=3).request("GET", "/items/a", cast_to=Item)
    assert info.value.status_code == 503
    assert route.call_count == 4


@respx.mock
def test_timeout_after_retries_is_api_timeout_error(clock: FakeClock) -> None:
    respx.get(f"{BASE}/items/a").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(APITimeoutError) as info:
        sync_client(clock).request("GET", "/items/a", cast_to=Item)
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)
    assert isinstance(info.value, APIConnectionError)


@respx.mock
def test_each_attempt_sends_its_retry_count(clock: FakeClock) -> None:
    route = respx.get(f"{BASE}/items/a").mock(
        side_effect=[httpx.Response(500), httpx.Response(500), OK]
    )
    sync_client(clock).request("GET", "/items/a", cast_to=Item)
    assert [c.request.headers["X-Retry-Count"] for c in route.calls] == ["0", "1", "2"]


# -- idempotency ---------------------------------------------------------------
@respx.mock
def test_post_answered_500_is_never_replayed(clock: FakeClock) -> None:
    route = respx.post(f"{BASE}/orders").mock(return_value=httpx.Response(500))
    with pytest.raises(InternalServerError):
        sync_client(clock).request("POST", "/orders", json={"n": 1}, cast_to=dict)
    assert route.call_count == 1


@respx.mock
def test_post_after_read_timeout_is_not_replayed(clock: FakeClock) -> None:
    route = respx.post(f"{BASE}/orders").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(APITimeoutError):
        sync_client(clock).request("POST", "/orders", json={"n": 1}, cast_to=dict)
    assert route.call_count == 1


@respx.mock
def test_post_that_never_left_is_retried(clock: FakeClock) -> None:
    route = respx.post(f"{BASE}/orders").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(201, json={"ok": True})]
    )
    assert sync_client(clock).request("POST", "/orders", json={}, cast_to=dict) == {"ok": True}
    assert route.call_count == 2


@respx.mock
def test_post_answered_429_is_retried_as_the_server_did_not_act(clock: FakeClock) -> None:
    route = respx.post(f"{BASE}/orders").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(200, json={}),
        ]
    )
    sync_client(clock).request("POST", "/orders", json={}, cast_to=dict)
    assert route.call_count == 2
    assert clock.sleeps == [2.0]


@respx.mock
def test_post_marked_idempotent_is_retried(clock: FakeClock) -> None:
    route = respx.post(f"{BASE}/query").mock(side_effect=[httpx.Response(500), OK])
    sync_client(clock).request("POST", "/query", json={"q": 1}, cast_to=Item, idempotent=True)
    assert route.call_count == 2
    assert route.calls[0].request.content == route.calls[1].request.content


@respx.mock
def test_idempotency_key_is_sent_and_reused_on_every_attempt(clock: FakeClock) -> None:
    route = respx.post(f"{BASE}/orders").mock(
        side_effect=[httpx.Response(502), httpx.Response(503), OK]
    )
    sync_client(clock).request("POST", "/orders", json={}, cast_to=Item, idempotency_key="key-123")
    assert route.call_count == 3
    assert {c.request.headers["Idempotency-Key"] for c in route.calls} == {"key-123"}


@respx.mock
def test_body_that_cannot_be_replayed_is_not_retried(clock: FakeClock) -> None:
    route = respx.put(f"{BASE}/upload").mock(return_value=httpx.Response(503))

    def chunks() -> Any:
        yield b"part-1"
        yield b"part-2"

    with pytest.raises(InternalServerError):
        sync_client(clock).request("PUT", "/upload", content=chunks(), cast_to=dict)
    assert route.call_count == 1


# -- waits -----------------------------------------------------------------------
@respx.mock
def test_retry_after_seconds_is_honoured(clock: FakeClock) -> None:
    respx.get(f"{BASE}/items/a").mock(
        side_effect=[httpx.Response(503, headers={"Retry-After": "7"}), OK]
    )
    sync_client(clock).request("GET", "/items/a", cast_to=Item)
    assert clock.sleeps == [7.0]


@respx.mock
def test_retry_after_http_date_is_honoured(clock: FakeClock) -> None:
    when = email.utils.formatdate(clock.time() + 12, usegmt=True)
    respx.get(f"{BASE}/items/a").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": when}), OK]
    )
    sync_client(clock).request("GET", "/items/a", cast_to=Item)
    assert clock.sleeps == [pytest.approx(12.0, abs=1.0)]


@respx.mock
def test_retry_after_ms_wins(clock: FakeClock) -> None:
    respx.get(f"{BASE}/items/a").mock(
        side_effect=[
            httpx.Response(429, headers={"retry-after-ms": "250", "Retry-After": "9"}),
            OK,
        ]
    )
    sync_client(clock).request("GET", "/items/a", cast_to=Item)
    assert clock.sleeps == [0.25]


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Rate-Limit-Reset": "4"},
        {"X-RateLimit-Reset": "4"},
        {"X-RateLimit-Reset": str(1_700_000_000 + 4)},  # epoch seconds; wall time is 1.7e9
    ],
)
@respx.mock
def test_429_without_retry_after_waits_for_the_reset_header(
    clock: FakeClock, headers: dict[str, str]
) -> None:
    respx.get(f"{BASE}/items/a").mock(side_effect=[httpx.Response(429, headers=headers), OK])
    sync_client(clock).request("GET", "/items/a", cast_to=Item)
    assert clock.sleeps == [pytest.approx(4.0)]


@respx.mock
def test_server_wait_over_the_cap_raises_at_once_with_the_wait(clock: FakeClock) -> None:
    route = respx.get(f"{BASE}/items/a").mock(
        return_value=httpx.Response(429, headers={"Retry-After": "120"})
    )
    with pytest.raises(RateLimitError) as info:
        sync_client(clock).request("GET", "/items/a", cast_to=Item)
    assert route.call_count == 1
    assert clock.sleeps == []
    assert info.value.retry_after == 120.0


@respx.mock
def test_the_cap_is_configurable(clock: FakeClock) -> None:
    respx.get(f"{BASE}/items/a").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "120"}), OK]
    )
    sync_client(clock, max_retry_wait=300).request("GET", "/items/a", cast_to=Item)
    assert clock.sleeps == [120.0]


@respx.mock
def test_backoff_is_exponential_with_full_jitter_capped_at_8s(clock: FakeClock) -> None:
    respx.get(f"{BASE}/items/a").mock(return_value=httpx.Response(500))
    client = sync_client(clock, max_retries=6)
    with pytest.raises(InternalServerError):
        client.request("GET", "/items/a", cast_to=Item)
    # rand() == 1.0: the top of each jitter window
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


@respx.mock
def test_jitter_draws_within_the_window(clock: FakeClock) -> None:
    respx.get(f"{BASE}/items/a").mock(side_effect=[httpx.Response(500), httpx.Response(500), OK])
    client = SyncAPIClient(base_url=BASE, clock=clock, sleep=clock.sleep, rand=lambda: 0.25)
    client.request("GET", "/items/a", cast_to=Item)
    assert clock.sleeps == [0.125, 0.25]


# -- the total deadline --------------------------------------------------------
@respx.mock
def test_deadline_stops_retries_that_would_cross_it(clock: FakeClock) -> None:
    route = respx.get(f"{BASE}/items/a").mock(
        return_value=httpx.Response(503, headers={"Retry-After": "4"})
    )
    client = sync_client(clock, max_retries=10, deadline=10.0)
    with pytest.raises(InternalServerError):
        client.request("GET", "/items/a", cast_to=Item)
    # attempts at t=0, 4, 8; a third wait would end at 12 > 10
    assert route.call_count == 3
    assert sum(clock.sleeps) == 8.0


@respx.mock
def test_deadline_cuts_each_attempt_timeout_to_the_time_left(clock: FakeClock) -> None:
    route = respx.get(f"{BASE}/items/a").mock(
        side_effect=[httpx.Response(503, headers={"Retry-After": "6"}), OK]
    )
    client = sync_client(clock, deadline=10.0, timeout=30.0)
    client.request("GET", "/items/a", cast_to=Item)
    first, second = (c.request.extensions["timeout"] for c in route.calls)
    assert first["read"] == 10.0
    assert second["read"] == pytest.approx(4.0)


# -- async twin ----------------------------------------------------------------
@respx.mock
async def test_async_client_follows_the_same_rules(clock: FakeClock) -> None:
    get = respx.get(f"{BASE}/items/a").mock(
        side_effect=[httpx.Response(503, headers={"Retry-After": "3"}), OK]
    )
    post = respx.post(f"{BASE}/orders").mock(return_value=httpx.Response(500))
    async with async_client(clock) as client:
        assert (await client.request("GET", "/items/a", cast_to=Item)).id == "a"
        with pytest.raises(InternalServerError):
            await client.request("POST", "/orders", json={}, cast_to=dict)
    assert get.call_count == 2
    assert post.call_count == 1
    assert clock.sleeps == [3.0]
    assert [c.request.headers["X-Retry-Count"] for c in get.calls] == ["0", "1"]


@respx.mock
async def test_async_server_wait_over_cap_raises(clock: FakeClock) -> None:
    respx.get(f"{BASE}/items/a").mock(
        return_value=httpx.Response(429, headers={"Retry-After": "61"})
    )
    async with async_client(clock) as client:
        with pytest.raises(RateLimitError) as info:
            await client.request("GET", "/items/a", cast_to=Item)
    assert info.value.retry_after == 61.0
    assert clock.sleeps == []


@respx.mock
def test_not_found_is_not_retried_and_carries_the_response(clock: FakeClock) -> None:
    respx.get(f"{BASE}/items/x").mock(
        return_value=httpx.Response(404, json={"error": {"code": "NOT_FOUND", "message": "no x"}})
    )
    with pytest.raises(NotFoundError) as info:
        sync_client(clock).request("GET", "/items/x", cast_to=Item)
    assert info.value.response.status_code == 404
    assert info.value.code == "NOT_FOUND"
