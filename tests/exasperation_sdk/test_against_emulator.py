"""The EXASPERATION client against the server's EXASPERATION emulator, over a
real socket, every request and answer checked against
contracts/exasperation.openapi.yaml (beside the respx tests of test_client.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from exasperation_sdk import (
    AsyncExasperationClient,
    ExasperationClient,
    FeatureNotEnabledError,
    NotFoundError,
    RateLimitError,
)
from gateway_server.emulators import load_seed
from gateway_server.testing import FaultControl, LocalGateway
from sdk_core import APIConnectionError, APITimeoutError
from tests.contract import load
from tests.emulator_support import AsyncChecked, Checked, prefixed

DOCUMENTED = "https://api.exasperation.example.com"
FULL_KEY = "exa-demo-key"
BASIC_KEY = "exa-basic-key"


def where(server: LocalGateway) -> Any:
    return prefixed(server.emulator_url("exasperation"), DOCUMENTED)


def client(server: LocalGateway, key: str = FULL_KEY, **options: Any) -> ExasperationClient:
    transport = Checked(load("exasperation.openapi.yaml"), where(server))
    return ExasperationClient(
        key,
        base_url=server.emulator_url("exasperation") + "/v1",
        http_client=httpx.Client(transport=transport),
        **options,
    )


def async_client(
    server: LocalGateway, key: str = FULL_KEY, **options: Any
) -> AsyncExasperationClient:
    transport = AsyncChecked(load("exasperation.openapi.yaml"), where(server))
    return AsyncExasperationClient(
        key,
        base_url=server.emulator_url("exasperation") + "/v1",
        http_client=httpx.AsyncClient(transport=transport),
        **options,
    )


def test_search_ranks_the_seeded_corpus_by_the_question(gateway_server: LocalGateway) -> None:
    with client(gateway_server) as exa:
        result = exa.search("How does password reset detection work?", max_results=3)
    assert [s.id for s in result.sources][:1] == ["doc_123"]
    assert len(result.sources) == 3
    scores = [s.relevance_score for s in result.sources]
    assert scores == sorted(scores, reverse=True)
    assert "Password reset detection" in result.answer
    assert result.request_id
    assert result.suggested_queries


def test_filters_narrow_the_search_and_the_options_come_from_the_corpus(
    gateway_server: LocalGateway,
) -> None:
    with client(gateway_server) as exa:
        cisco = exa.search("parser for VPN sessions", filters={"vendors": ["cisco"]})
        dated = exa.search(
            "password", filters={"created_after": "2024-01-01", "created_before": "2024-12-31"}
        )
        options = exa.metadata_options()
    assert {s.id for s in cisco.sources} == {"doc_129"}
    assert dated.sources
    assert all(s.metadata and str(s.metadata.created_at) >= "2024-01-01" for s in dated.sources)
    assert "cisco" in options.vendors
    assert options.products["cisco"] == ["asa"]


def test_features_gate_suggestions_filters_and_options(gateway_server: LocalGateway) -> None:
    with client(gateway_server) as full:
        assert "How do I configure SAML authentication" in full.suggestions("How do I").suggestions
    with client(gateway_server, BASIC_KEY) as basic:
        with pytest.raises(FeatureNotEnabledError) as suggestions:
            basic.suggestions("How do")
        with pytest.raises(FeatureNotEnabledError) as filtered:
            basic.search("password", filters={"vendors": ["microsoft"]})
        with pytest.raises(FeatureNotEnabledError):
            basic.metadata_options()
        assert basic.search("password").sources  # unfiltered search needs no feature
    assert suggestions.value.feature == "suggestions"
    assert filtered.value.feature == "advanced_filtering"


def test_feedback_is_taken_for_the_keys_own_searches_only(gateway_server: LocalGateway) -> None:
    with client(gateway_server) as exa:
        result = exa.search("Okta integration")
        assert result.request_id
        done = exa.feedback(result.request_id, "positive", comments="spot on")
        with pytest.raises(NotFoundError):
            exa.feedback("req_never_made", "negative")
    assert done.feedback_id.startswith("fb_")
    with client(gateway_server, BASIC_KEY) as other, pytest.raises(NotFoundError):
        other.feedback(result.request_id, "negative")


def test_session_status_counts_the_keys_requests(gateway_server: LocalGateway) -> None:
    with client(gateway_server) as exa:
        before = exa.session_status()
        exa.search("SAML")
        after = exa.session_status()
    assert before.authenticated
    assert before.user_id == "usr_demo"
    assert "suggestions" in before.features_enabled
    assert before.rate_limit is not None
    assert after.rate_limit is not None
    assert before.rate_limit.limit == 60
    assert before.rate_limit.remaining is not None
    if after.rate_limit.reset_at == before.rate_limit.reset_at:  # same window
        assert after.rate_limit.remaining == before.rate_limit.remaining - 2


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalGateway]:
    """An emulator whose searches take 300 ms, from a seed file of the user's."""
    seed = load_seed(None)
    seed["exasperation"]["search_latency_ms"] = 300
    path = tmp_path_factory.mktemp("seed") / "seed.json"
    path.write_text(json.dumps(seed))
    with LocalGateway(
        tmp_path_factory.mktemp("slow"), emulate="exasperation", emulator_data=str(path)
    ) as server:
        yield server


def test_sixty_a_minute_per_key_then_429_until_the_window_turns(
    slow_server: LocalGateway,
) -> None:
    with client(slow_server, BASIC_KEY, rate_limiter=None, max_retries=0) as exa:
        statuses = []
        for _ in range(61):
            try:
                exa.session_status()
                statuses.append(200)
            except RateLimitError as exc:
                statuses.append(429)
                refused = exc
        assert statuses.count(200) <= 60
        assert statuses[-1] == 429
        assert int(refused.response.headers["Retry-After"]) >= 1
        assert refused.response.headers["X-Request-ID"]
        slow_server.clock.advance(60)
        assert exa.session_status().authenticated


async def test_five_in_flight_per_key_and_the_clients_limiter_keeps_to_it(
    slow_server: LocalGateway,
) -> None:
    slow_server.clock.advance(60)  # a fresh minute
    async with async_client(slow_server, rate_limiter=None, max_retries=0) as unlimited:
        outcomes = await asyncio.gather(
            *(unlimited.search(f"question {i}") for i in range(6)), return_exceptions=True
        )
    refused = [o for o in outcomes if isinstance(o, RateLimitError)]
    assert len(refused) == 1
    assert "in flight" in str(refused[0])
    slow_server.clock.advance(60)
    async with async_client(slow_server, max_retries=0) as limited:  # the default limiter
        results = await asyncio.gather(*(limited.search(f"question {i}") for i in range(6)))
    assert len(results) == 6


def test_injected_faults_reach_the_client(
    gateway_server: LocalGateway, emulator_faults: FaultControl
) -> None:
    route = "/emulators/exasperation/v1/search"
    sleeps: list[float] = []
    with client(gateway_server, sleep=sleeps.append) as exa:
        emulator_faults.arm(route, "status", status=503, count=2)
        assert exa.search("SAML").sources  # retried past two 503s
        assert len(sleeps) == 2
        emulator_faults.arm(route, "drop")
        assert exa.search("SAML").sources  # a dropped connection is retried too
        emulator_faults.arm(route, "drop", count=5)
        with pytest.raises(APIConnectionError):
            exa.search("SAML")
        emulator_faults.clear()
    with client(gateway_server, timeout=0.3, max_retries=0) as impatient:
        emulator_faults.arm(route, "slow", delay=1.0)
        with pytest.raises(APITimeoutError):
            impatient.search("SAML")


@pytest.mark.emulator_fault("/emulators/exasperation/v1/suggestions", "429", retry_after=0)
def test_a_fault_armed_by_mark(gateway_server: LocalGateway, emulator_faults: FaultControl) -> None:
    with client(gateway_server, max_retries=0) as exa, pytest.raises(RateLimitError):
        exa.suggestions("How")
    assert emulator_faults.armed() == []


async def test_the_async_client_against_the_emulator(
    async_exasperation_client: AsyncExasperationClient,
) -> None:
    result = await async_exasperation_client.search("custom parser regular expression")
    assert result.sources[0].id == "doc_131"


def test_the_plugins_clients_are_configured(exasperation_client: ExasperationClient) -> None:
    assert exasperation_client.session_status().user_id == "usr_demo"


def test_the_seed_file_is_the_users_to_replace(tmp_path: Path) -> None:
    seed = {"exasperation": {"keys": [{"key": "mine", "features": []}], "documents": [
        {"id": "d1", "title": "Only document", "content": "Nothing but widgets."}
    ]}}  # fmt: skip
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed))
    with LocalGateway(tmp_path / "data", emulate="exasperation", emulator_data=str(path)) as server:
        with client(server, "mine") as exa:
            assert [s.id for s in exa.search("widgets").sources] == ["d1"]
        with client(server, FULL_KEY) as other, pytest.raises(Exception, match="401"):
            other.search("widgets")
