"""The EXASPERATION client against a contract-checked stand-in of the service."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import respx

from exasperation_sdk import (
    AsyncExasperationClient,
    ExasperationClient,
    FeatureNotEnabledError,
    InputValidationError,
    InternalServerError,
    NotFoundError,
    RateLimiter,
    RateLimitError,
    SearchFilters,
)
from tests.contract import Contract
from tests.exasperation_sdk.fake_service import FakeExasperation, error
from tests.support import FakeClock


def client(clock: FakeClock, **kw: Any) -> ExasperationClient:
    kw.setdefault("rand", lambda: 1.0)
    return ExasperationClient(api_key="test-key", clock=clock, sleep=clock.sleep, **kw)


def aclient(clock: FakeClock, **kw: Any) -> AsyncExasperationClient:
    kw.setdefault("rand", lambda: 1.0)
    return AsyncExasperationClient(api_key="test-key", clock=clock, sleep=clock.async_sleep, **kw)


def sent_json(service: FakeExasperation, index: int = -1) -> Any:
    return json.loads(service.requests[index].content)


# -- search ----------------------------------------------------------------------
def test_search_sends_typed_filters_and_options(
    api: respx.Router, service: FakeExasperation, clock: FakeClock, contract: Contract
) -> None:
    result = client(clock).search(
        "How does the password reset detection rule work?",
        filters={
            "document_types": ["use_case", "rule"],
            "vendors": ["microsoft"],
            "products": ["active_directory"],
            "created_after": dt.date(2024, 1, 1),
            "created_before": "2025-03-27",
        },
        max_results=5,
        include_metadata=True,
        rerank=True,
        threshold=0.7,
    )
    assert sent_json(service) == {
        "query": "How does the password reset detection rule work?",
        "filters": {
            "document_types": ["use_case", "rule"],
            "vendors": ["microsoft"],
            "products": ["active_directory"],
            "created_after": "2024-01-01",
            "created_before": "2025-03-27",
        },
        "options": {"max_results": 5, "include_metadata": True, "rerank": True, "threshold": 0.7},
    }
    assert service.requests[-1].headers["Authorization"] == "Bearer test-key"
    assert result.answer.startswith("The password reset detection rule")
    source = result.sources[0]
    assert source.relevance_score == 0.92
    assert source.metadata is not None
    assert source.metadata.vendor == "microsoft"
    assert result.suggested_queries == ["How do I configure password reset alerting?"]
    assert result.metadata is not None
    assert result.metadata.processing_time_ms == 235
    assert result.request_id == "req_000001"
    assert contract.requests_checked >= 1


def test_unknown_response_fields_are_kept(api: respx.Router, clock: FakeClock) -> None:
    result = client(clock).search("password reset")
    assert result.model_extra == {"cache_hit": False}
    assert result.sources[0].model_extra == {"embedding_model": "v3"}


def test_search_filters_model_is_accepted(
    api: respx.Router, service: FakeExasperation, clock: FakeClock
) -> None:
    filters = SearchFilters(vendors=["okta"], created_after=dt.datetime(2024, 5, 1, 12, 30))
    client(clock).search("okta", filters=filters)
    assert sent_json(service)["filters"] == {"vendors": ["okta"], "created_after": "2024-05-01"}
    assert "options" not in sent_json(service)


# -- validation before any request ---------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"filters": {"created_after": "2025-02-01", "created_before": "2025-01-01"}}, "filters"),
        ({"filters": {"vendor": ["microsoft"]}}, "filters.vendor"),
        ({"filters": {"created_after": "yesterday"}}, "filters.created_after"),
        ({"filters": {"vendors": "microsoft"}}, "filters.vendors"),
        ({"threshold": 1.5}, "options.threshold"),
        ({"threshold": -0.1}, "options.threshold"),
        ({"max_results": 0}, "options.max_results"),
        ({"max_results": 101}, "options.max_results"),
    ],
)
def test_bad_search_arguments_fail_before_any_request(
    api: respx.Router,
    service: FakeExasperation,
    clock: FakeClock,
    kwargs: dict[str, Any],
    field: str,
) -> None:
    with pytest.raises(InputValidationError) as info:
        client(clock).search("q", **kwargs)
    assert info.value.field == field
    assert isinstance(info.value, ValueError)
    assert service.requests == []


def test_created_after_later_than_created_before_is_named(
    api: respx.Router, service: FakeExasperation, clock: FakeClock
) -> None:
    with pytest.raises(InputValidationError) as info:
        client(clock).search(
            "q", filters={"created_after": "2025-02-01", "created_before": "2025-01-01"}
        )
    assert "created_after (2025-02-01) is after created_before (2025-01-01)" in str(info.value)
    assert service.requests == []


@pytest.mark.parametrize("query", ["", "   "])
def test_blank_query_is_refused(
    api: respx.Router, service: FakeExasperation, clock: FakeClock, query: str
) -> None:
    with pytest.raises(InputValidationError) as info:
        client(clock).search(query)
    assert info.value.field == "query"
    assert service.requests == []


def test_other_methods_validate_first(
    api: respx.Router, service: FakeExasperation, clock: FakeClock
) -> None:
    c = client(clock)
    with pytest.raises(InputValidationError, match="partial_query"):
        c.suggestions("")
    with pytest.raises(InputValidationError, match="limit"):
        c.suggestions("How", limit=0)
    with pytest.raises(InputValidationError, match="rating"):
        c.feedback("req_1", "meh")  # type: ignore[arg-type]
    with pytest.raises(InputValidationError, match="request_id"):
        c.feedback("", "positive")
    with pytest.raises(InputValidationError, match="selected_sources"):
        c.feedback("req_1", "positive", selected_sources="doc_1")
    assert service.requests == []


# -- the other endpoints -----------------------------------------------------------
def test_suggestions_feedback_metadata_session(
    api: respx.Router, service: FakeExasperation, clock: FakeClock
) -> None:
    c = client(clock)
    suggestions = c.suggestions("How do", limit=3)
    assert suggestions.suggestions == ["How do thing 0", "How do thing 1", "How do thing 2"]
    assert dict(service.requests[-1].url.params) == {"partial_query": "How do", "limit": "3"}
    assert suggestions.request_id == "req_000001"  # from X-Request-ID: the body has none

    fb = c.feedback(
        "req_000001",
        "positive",
        comments="Helpful",
        selected_sources=["doc_123"],
        user_query_reformulation="password reset in AD?",
    )
    assert fb.feedback_id == "fb_987654321"
    assert sent_json(service) == {
        "request_id": "req_000001",
        "rating": "positive",
        "comments": "Helpful",
        "selected_sources": ["doc_123"],
        "user_query_reformulation": "password reset in AD?",
    }

    options = c.metadata_options()
    assert options.products["okta"] == ["identity_cloud"]
    assert options.date_range is not None
    assert options.date_range.oldest == "2022-01-15"

    status = c.session_status()
    assert status.authenticated
    assert status.rate_limit is not None
    assert status.rate_limit.limit == 60
    assert status.session_expires_at == dt.datetime(2025, 3, 28, 8, 30, tzinfo=dt.UTC)
    assert "suggestions" in status.features_enabled


# -- errors ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "feature"),
    [
        (lambda c: c.suggestions("How"), "suggestions"),
        (lambda c: c.metadata_options(), "advanced_filtering"),
        (lambda c: c.search("q", filters={"vendors": ["okta"]}), "advanced_filtering"),
    ],
)
def test_403_names_the_missing_feature(
    api: respx.Router, service: FakeExasperation, clock: FakeClock, call: Any, feature: str
) -> None:
    service.features = frozenset()
    with pytest.raises(FeatureNotEnabledError) as info:
        call(client(clock))
    assert info.value.feature == feature
    assert f"lacks the '{feature}' feature" in str(info.value)
    assert info.value.request_id is not None
    assert info.value.status_code == 403


def test_unfiltered_search_needs_no_feature(
    api: respx.Router, service: FakeExasperation, clock: FakeClock
) -> None:
    service.features = frozenset()
    assert client(clock).search("q").answer


def test_every_error_carries_the_request_id(
    api: respx.Router, service: FakeExasperation, clock: FakeClock
) -> None:
    service.forced.append(error(404, "not_found", "gone", "req_body_id"))
    with pytest.raises(NotFoundError) as info:
        client(clock).session_status()
    assert info.value.request_id == "req_000001"  # the header; the body's id agrees in real life
    assert info.value.code == "not_found"
    assert "request id req_000001" in str(info.value)


def test_wrong_key_is_an_authentication_error(api: respx.Router, clock: FakeClock) -> None:
    from exasperation_sdk import AuthenticationError

    with pytest.raises(AuthenticationError) as info:
        ExasperationClient(api_key="wrong", clock=clock, sleep=clock.sleep).session_status()
    assert info.value.code == "unauthorized"


def test_request_id_in_the_debug_log_line(
    api: respx.Router, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="exasperation_sdk"):
        client(clock).search("q")
    lines = [r.getMessage() for r in caplog.records if r.name == "exasperation_sdk"]
    assert any(
        line.startswith("POST https://api.exasperation.example.com/v1/search -> 200")
        and "request id req_000001" in line
        for line in lines
    )
    assert "test-key" not in caplog.text


# -- retries -------------------------------------------------------------------------
def test_search_is_retried_on_5xx_and_429_with_backoff(
    api: respx.Router, service: FakeExasperation, clock: FakeClock
) -> None:
    service.forced.extend(
        [
            error(500, "internal", "boom", "r1"),
            error(503, "unavailable", "later", "r2"),
        ]
    )
    result = client(clock, rate_limiter=None).search("q")
    assert result.answer
    assert service.statuses == [500, 503, 200]
    assert clock.sleeps == [0.5, 1.0]  # exponential backoff (jitter pinned to the top)


def test_feedback_is_not_replayed_after_a_5xx(
    api: respx.Router, service: FakeExasperation, clock: FakeClock
) -> None:
    service.forced.append(error(500, "internal", "boom", "r1"))
    with pytest.raises(InternalServerError):
        client(clock).feedback("req_1", "negative")
    assert len(service.requests) == 1


def test_429_is_retried_after_retry_after_then_surfaces(
    api: respx.Router, service: FakeExasperation, clock: FakeClock
) -> None:
    too_many = error(429, "rate_limited", "slow down", "r")
    too_many.headers["Retry-After"] = "7"
    service.forced.extend([too_many, error(429, "rate_limited", "slow down", "r")])
    service.forced[-1].headers["Retry-After"] = "7"
    c = client(clock, rate_limiter=None, max_retries=1)
    with pytest.raises(RateLimitError) as info:
        c.search("q")
    assert info.value.retry_after == 7.0
    assert clock.sleeps == [7.0]


# -- the client-side rate limiter ----------------------------------------------------
def test_200_searches_in_a_loop_see_no_429(
    api: respx.Router, service: FakeExasperation, clock: FakeClock
) -> None:
    c = client(clock)
    seen_429 = 0
    for i in range(200):
        try:
            c.search(f"question {i}")
        except RateLimitError:
            seen_429 += 1
    assert seen_429 == 0
    assert service.rate_limited == 0  # the limiter kept us under, not the retries
    assert len(service.requests) == 200
    # 200 requests at 60 a minute: the last starts after three full windows
    assert clock.now - 1_000.0 >= 180.0


def test_without_the_limiter_the_same_loop_hits_429(
    api: respx.Router, service: FakeExasperation, clock: FakeClock
) -> None:
    c = client(clock, rate_limiter=None, max_retries=0)
    for i in range(60):
        c.search(f"question {i}")
    with pytest.raises(RateLimitError):
        c.search("question 61")
    assert service.rate_limited == 1


def test_limiter_follows_the_servers_remaining_count(
    api: respx.Router, service: FakeExasperation, clock: FakeClock
) -> None:
    # Another process already used 58 of the key's 60 requests this minute.
    for _ in range(58):
        service.starts.append(clock.now)
    clock.advance(10)
    c = client(clock)
    for i in range(5):
        c.search(f"q{i}")
    assert service.rate_limited == 0
    assert clock.now - 1_000.0 >= 60.0  # it waited for the shared window to reset


def test_limiter_is_adjustable(
    api: respx.Router, service: FakeExasperation, clock: FakeClock
) -> None:
    limiter = RateLimiter(
        max_requests=10, period=60, max_concurrent=2, clock=clock, sleep=clock.sleep
    )
    c = client(clock, rate_limiter=limiter)
    for i in range(25):
        c.search(f"q{i}")
    assert clock.now - 1_000.0 >= 120.0
    assert c.rate_limiter is limiter


def test_threads_share_one_limiter_at_most_5_in_flight(
    service: FakeExasperation, contract: Contract, clock: FakeClock
) -> None:
    service.latency = 0.02
    with respx.mock(assert_all_called=False) as router:
        router.route(host="api.exasperation.example.com").mock(
            side_effect=contract.check(service.handle_blocking)
        )
        c = ExasperationClient(api_key="test-key")
        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(lambda i: c.search(f"q{i}"), range(40)))
    assert service.max_in_flight == 5
    assert service.rate_limited == 0


async def test_concurrent_async_searches_never_exceed_5_in_flight(
    async_api: respx.Router, service: FakeExasperation, clock: FakeClock
) -> None:
    service.latency = 0.01
    async with aclient(clock) as c:
        results = await asyncio.gather(*(c.search(f"q{i}") for i in range(50)))
    assert len(results) == 50
    assert service.max_in_flight == 5
    assert service.rate_limited == 0


async def test_async_200_searches_see_no_429(
    async_api: respx.Router, service: FakeExasperation, clock: FakeClock
) -> None:
    async with aclient(clock) as c:
        for i in range(200):
            await c.search(f"q{i}")
    assert service.rate_limited == 0
    assert len(service.requests) == 200


async def test_async_surface_matches_sync(
    async_api: respx.Router, service: FakeExasperation, clock: FakeClock
) -> None:
    sync_names = {n for n in dir(ExasperationClient) if not n.startswith("_")}
    async_names = {n for n in dir(AsyncExasperationClient) if not n.startswith("_")}
    assert sync_names == async_names
    async with aclient(clock) as c:
        assert (await c.suggestions("How", limit=2)).suggestions == ["How thing 0", "How thing 1"]
        assert (await c.feedback("req_1", "positive")).status == "success"
        assert (await c.metadata_options()).vendors
        assert (await c.session_status()).authenticated
        service.features = frozenset()
        with pytest.raises(FeatureNotEnabledError):
            await c.suggestions("How")
        with pytest.raises(InputValidationError):
            await c.search(
                "q", filters={"created_after": "2025-02-01", "created_before": "2025-01-01"}
            )


# -- configuration -------------------------------------------------------------------
def test_configuration_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXASPERATION_API_KEY", "env-key")
    monkeypatch.setenv("EXASPERATION_BASE_URL", "http://127.0.0.1:9/v1")
    c = ExasperationClient()
    assert str(c.base_url) == "http://127.0.0.1:9/v1/"
    assert "env-key" not in repr(c.auth)


def test_missing_api_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXASPERATION_API_KEY", raising=False)
    with pytest.raises(InputValidationError) as info:
        ExasperationClient()
    assert info.value.field == "api_key"


def test_raw_response(api: respx.Router, clock: FakeClock) -> None:
    raw = client(clock).with_raw_response.search("q")
    assert raw.status_code == 200
    assert raw.rate_limit.limit == 60
    assert raw.rate_limit.remaining == 59
    assert raw.parse().request_id == raw.request_id
