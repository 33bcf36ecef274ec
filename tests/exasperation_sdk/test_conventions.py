"""The suite's conventions on EXASPERATION: health(), per-call options, typed raw
responses, omitted arguments, reprs and the environment."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from exasperation_sdk import (
    APIResponse,
    AsyncExasperationClient,
    ClientClosedError,
    ExasperationClient,
    Health,
    SearchResult,
)
from tests.exasperation_sdk.fake_service import FakeExasperation
from tests.support import FakeClock


def client(clock: FakeClock) -> ExasperationClient:
    return ExasperationClient(api_key="test-key", clock=clock, sleep=clock.sleep, rand=lambda: 1.0)


def test_health_needs_no_key_and_keeps_what_the_service_says(
    api: respx.Router, service: FakeExasperation, clock: FakeClock
) -> None:
    health = client(clock).health()
    assert isinstance(health, Health)
    assert health.status == "ok"
    assert health.model_extra == {"version": "1.4.2"}
    sent = service.requests[-1]
    assert sent.url == "https://api.exasperation.example.com/v1/health"
    assert "authorization" not in sent.headers


async def test_async_health(async_api: respx.Router, clock: FakeClock) -> None:
    async with AsyncExasperationClient(api_key="k", clock=clock, sleep=clock.async_sleep) as c:
        assert (await c.health()).status == "ok"


def test_per_call_options(api: respx.Router, service: FakeExasperation, clock: FakeClock) -> None:
    client(clock).search("rule", timeout=3.0, extra_headers={"X-Trace": "s-1"})
    sent = service.requests[-1]
    assert sent.extensions["timeout"]["read"] == 3.0
    assert sent.headers["X-Trace"] == "s-1"
    client(clock).feedback("req_1", "positive", idempotency_key="fb-1")
    assert service.requests[-1].headers["Idempotency-Key"] == "fb-1"


def test_omitted_arguments_are_not_sent(
    api: respx.Router, service: FakeExasperation, clock: FakeClock
) -> None:
    client(clock).search("rule", max_results=3)
    assert json.loads(service.requests[-1].content) == {
        "query": "rule",
        "options": {"max_results": 3},
    }
    client(clock).suggestions("pass")
    assert dict(service.requests[-1].url.params) == {"partial_query": "pass"}


def test_typed_raw_response(api: respx.Router, clock: FakeClock) -> None:
    raw: APIResponse[SearchResult] = client(clock).with_raw_response.search("rule")
    result: SearchResult = raw.parse()
    assert raw.request_id == result.request_id
    assert raw.rate_limit.limit == 60
    health: APIResponse[Health] = client(clock).with_raw_response.health()
    assert health.status_code == 200


def test_repr_and_a_call_after_close(api: respx.Router, clock: FakeClock) -> None:
    c = client(clock)
    text = repr(c)
    assert text == (
        "ExasperationClient(base_url='https://api.exasperation.example.com/v1/', "
        "auth=StaticAuth(Authorization), timeout=Timeout(connect=10.0, read=60.0, "
        "write=60.0, pool=60.0), max_retries=3)"
    )
    assert "test-key" not in text
    c.close()
    with pytest.raises(ClientClosedError):
        c.health()


def test_base_url_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, api: respx.Router, clock: FakeClock
) -> None:
    monkeypatch.setenv("EXASPERATION_API_KEY", "env-key")
    monkeypatch.setenv("EXASPERATION_BASE_URL", "https://api.exasperation.example.com/v1")
    c = ExasperationClient(clock=clock)
    assert str(c.base_url) == "https://api.exasperation.example.com/v1/"
    assert isinstance(c.health(), Health)
    c.close()


def test_unknown_per_call_option_fails_before_sending(
    api: respx.Router, service: FakeExasperation, clock: FakeClock
) -> None:
    from exasperation_sdk import InputValidationError

    with pytest.raises(InputValidationError) as info:
        client(clock).search("rule", max_result=3)  # type: ignore[call-arg]
    assert info.value.field == "max_result"
    assert service.requests == []


def test_http_client_error_is_not_swallowed(clock: FakeClock) -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"status": "ok"}))
    with ExasperationClient(
        api_key="k", clock=clock, http_client=httpx.Client(transport=transport)
    ) as c:
        assert c.health().status == "ok"
