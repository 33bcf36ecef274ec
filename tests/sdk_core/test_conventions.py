"""sdk_core's conventions (issue 17): per-call options, pages, streamed responses,
readable errors, lifecycle, reprs, late debug logging, to_json, and the retry
strategies as tenacity's own."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import warnings
import weakref
from typing import Any, Unpack

import httpx
import pytest
import respx
import tenacity
from tenacity.retry import retry_base
from tenacity.wait import wait_base

from sdk_core import (
    NOT_GIVEN,
    APIResponse,
    AsyncAPIClient,
    BaseModel,
    ClientClosedError,
    InputValidationError,
    InternalServerError,
    MutationOverrides,
    NotFoundError,
    Page,
    PageNumberPagination,
    RateLimitError,
    RequestOptions,
    RequestOverrides,
    RetryPolicy,
    SDKError,
    StaticAuth,
    SyncAPIClient,
    SyncAPIResource,
    SyncPage,
    no_idempotency_key,
    strip_not_given,
    to_raw_response_wrapper,
    to_streamed_response_wrapper,
)
from sdk_core._retry import CallState
from tests.support import FakeClock, LocalServer

BASE = "https://api.example.test/v1"


class Item(BaseModel):
    id: str
    name: str


def items_page(request: httpx.Request) -> httpx.Response:
    page = int(request.url.params.get("page", 1))
    data = [{"id": str(i), "name": f"n{i}"} for i in range(page * 2 - 1, page * 2 + 1)]
    return httpx.Response(
        200, json={"data": data, "total": 5}, headers={"X-Request-ID": f"page-{page}"}
    )


def to_page(raw: APIResponse[Any]) -> Page[Item]:
    body = raw.parsed
    return Page([Item.model_validate(i) for i in body["data"]], total=body["total"])


class Items(SyncAPIResource):
    def get(self, item_id: str, **options: Unpack[RequestOverrides]) -> Item:
        opts = RequestOptions(method="GET", url=f"/items/{item_id}")
        return self._client.request_raw(opts, Item, options).parsed  # type: ignore[no-any-return]

    def create(self, name: str, **options: Unpack[MutationOverrides]) -> Item:
        opts = RequestOptions(method="POST", url="/items", json={"name": name})
        return self._client.request_raw(opts, Item, options).parsed  # type: ignore[no-any-return]

    def list(self, **options: Unpack[RequestOverrides]) -> SyncPage[Item]:
        return self._client.request_page(
            RequestOptions(method="GET", url="/items"),
            dict,
            to_page=to_page,
            strategy=PageNumberPagination(limit=2),
            overrides=options,
        )


# -- per-call options ------------------------------------------------------------------
@respx.mock
def test_overrides_merge_into_the_request_and_only_that_one() -> None:
    route = respx.post(f"{BASE}/items").mock(
        return_value=httpx.Response(200, json={"id": "1", "name": "a"})
    )
    client = SyncAPIClient(base_url=BASE, default_headers={"X-Tenant": "acme"})
    items = Items(client)
    items.create(
        "a",
        timeout=2.0,
        extra_headers={"X-Tenant": "other", "X-Trace": "1"},
        extra_query={"dry_run": "true"},
        extra_body={"colour": "red"},
        idempotency_key="key-1",
    )
    sent = route.calls[0].request
    assert json.loads(sent.content) == {"name": "a", "colour": "red"}
    assert sent.url.params["dry_run"] == "true"
    assert (sent.headers["X-Tenant"], sent.headers["X-Trace"]) == ("other", "1")
    assert sent.headers["Idempotency-Key"] == "key-1"
    assert sent.extensions["timeout"] == {"connect": 2.0, "read": 2.0, "write": 2.0, "pool": 2.0}
    items.create("b")
    plain = route.calls[1].request
    assert json.loads(plain.content) == {"name": "b"}
    assert "Idempotency-Key" not in plain.headers
    assert plain.headers["X-Tenant"] == "acme"


@respx.mock
def test_an_idempotency_key_makes_a_post_retried() -> None:
    route = respx.post(f"{BASE}/items").mock(
        side_effect=[httpx.Response(502), httpx.Response(200, json={"id": "1", "name": "a"})]
    )
    items = Items(SyncAPIClient(base_url=BASE, sleep=lambda s: None))
    items.create("a", idempotency_key="k")
    assert route.call_count == 2


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"idempotency_key": " "}, "idempotency_key"),
        ({"timeuot": 3}, "timeuot"),
    ],
)
@respx.mock
def test_bad_overrides_fail_before_sending(options: dict[str, Any], field: str) -> None:
    route = respx.post(f"{BASE}/items")
    with pytest.raises(InputValidationError) as info:
        Items(SyncAPIClient(base_url=BASE)).create("a", **options)
    assert info.value.field == field
    assert not route.called


def test_an_api_without_idempotency_keys_refuses_one_by_name() -> None:
    options: MutationOverrides = {"timeout": 3.0}
    assert no_idempotency_key(options, "not deduplicated") is options
    with pytest.raises(InputValidationError) as info:
        no_idempotency_key({**options, "idempotency_key": "k"}, "not deduplicated")
    assert (info.value.field, info.value.message) == ("idempotency_key", "not deduplicated")


def test_not_given_is_left_out_and_none_kept() -> None:
    assert strip_not_given({"a": NOT_GIVEN, "b": None, "c": 1}) == {"b": None, "c": 1}
    assert repr(NOT_GIVEN) == "NOT_GIVEN"
    assert not NOT_GIVEN


# -- pages ----------------------------------------------------------------------------------
@respx.mock
def test_pages_fetch_the_first_at_the_call_and_keep_their_response() -> None:
    route = respx.get(f"{BASE}/items").mock(side_effect=items_page)
    page = Items(SyncAPIClient(base_url=BASE)).list(extra_headers={"X-Trace": "t"})
    assert route.call_count == 1
    assert [i.id for i in page.items] == ["1", "2"]
    assert page.request_id == "page-1"
    assert page.has_next_page()
    assert [i.id for i in page] == ["1", "2", "3", "4", "5", "6"]  # 3 pages: total 5
    assert [p.request_id for p in page.iter_pages()] == ["page-1", "page-2", "page-3"]
    assert {c.request.headers["X-Trace"] for c in route.calls} == {"t"}


@respx.mock
def test_raw_response_of_a_list_call() -> None:
    respx.get(f"{BASE}/items").mock(side_effect=items_page)
    items = Items(SyncAPIClient(base_url=BASE))
    raw: APIResponse[SyncPage[Item]] = to_raw_response_wrapper(items.list)()
    assert raw.request_id == "page-1"
    assert raw.parse().total == 5


# -- streamed responses -----------------------------------------------------------------------
@respx.mock
def test_streamed_response_is_read_only_as_iterated() -> None:
    respx.get(f"{BASE}/items/1").mock(
        return_value=httpx.Response(
            200, json={"id": "1", "name": "a"}, headers={"X-Request-ID": "s-1"}
        )
    )
    items = Items(SyncAPIClient(base_url=BASE))
    with to_streamed_response_wrapper(items.get)("1") as response:
        assert response.request_id == "s-1"
        assert not response.http_response.is_stream_consumed
        item: Item = response.parse()
    assert item.name == "a"
    assert response.http_response.is_closed


@respx.mock
def test_a_streamed_error_is_the_typed_error() -> None:
    respx.get(f"{BASE}/items/9").mock(
        return_value=httpx.Response(404, json={"error": {"message": "no item 9"}})
    )
    items = Items(SyncAPIClient(base_url=BASE))
    with (
        pytest.raises(NotFoundError, match="no item 9"),
        to_streamed_response_wrapper(items.get)("9"),
    ):
        pass


# -- errors that read well ------------------------------------------------------------------------
@respx.mock
def test_a_huge_html_error_is_cut_in_str_and_whole_in_body() -> None:
    page = "<html><body>" + "Bad gateway. " * 16_000 + "</body></html>"
    respx.get(f"{BASE}/x").mock(return_value=httpx.Response(502, text=page))
    with pytest.raises(InternalServerError) as info:
        SyncAPIClient(base_url=BASE, max_retries=0).request("GET", "/x", cast_to=dict)
    assert len(page) > 200_000
    assert len(str(info.value)) < 700
    assert "more characters in .body" in str(info.value)
    assert info.value.body == page
    assert repr(info.value).startswith("InternalServerError(status_code=502,")


@respx.mock
def test_rate_limit_error_says_how_long_to_wait() -> None:
    respx.get(f"{BASE}/x").mock(
        return_value=httpx.Response(
            429, json={"error": {"message": "slow down"}}, headers={"Retry-After": "120"}
        )
    )
    with pytest.raises(RateLimitError) as info:
        SyncAPIClient(base_url=BASE, max_retries=0).request("GET", "/x", cast_to=dict)
    assert str(info.value) == "429 slow down; retry after 120s"


# -- lifecycle -----------------------------------------------------------------------------------
def test_a_client_never_closed_closes_its_pool_when_collected(local_server: LocalServer) -> None:
    client = SyncAPIClient(base_url=local_server.url)
    assert client.request("GET", "/items/1", cast_to=dict)["id"] == "1"
    pool = client._http._transport._pool  # type: ignore[attr-defined]
    assert pool.connections
    http = weakref.ref(client._http)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del client
        gc.collect()
    assert http() is None
    assert pool.connections == []
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


async def test_an_async_client_never_closed_closes_its_pool_when_collected(
    local_server: LocalServer,
) -> None:
    client = AsyncAPIClient(base_url=local_server.url)
    assert (await client.request("GET", "/items/1", cast_to=dict))["id"] == "1"
    pool = client._http._transport._pool  # type: ignore[attr-defined]
    del client
    gc.collect()
    for _ in range(20):  # the close is a task on this loop
        await asyncio.sleep(0)
    assert pool.connections == []


def test_a_call_after_close_is_a_typed_error() -> None:
    client = SyncAPIClient(base_url=BASE)
    client.close()
    with pytest.raises(ClientClosedError, match="is closed: GET /x was not sent"):
        client.request("GET", "/x", cast_to=dict)
    assert issubclass(ClientClosedError, SDKError)


async def test_an_async_call_after_close_is_a_typed_error() -> None:
    client = AsyncAPIClient(base_url=BASE)
    await client.close()
    with pytest.raises(ClientClosedError):
        await client.request("GET", "/x", cast_to=dict)


@respx.mock
def test_with_options_copies_share_the_pool_as_documented() -> None:
    respx.get(f"{BASE}/x").mock(return_value=httpx.Response(200, json={}))
    client = SyncAPIClient(base_url=BASE)
    copy = client.with_options(timeout=5)
    copy.close()  # a copy does not own the pool
    assert client.request("GET", "/x", cast_to=dict) == {}
    assert copy.request("GET", "/x", cast_to=dict) == {}
    client.close()  # the original does: its copies are closed with it
    with pytest.raises(ClientClosedError):
        copy.request("GET", "/x", cast_to=dict)


@respx.mock
def test_a_copy_outlives_its_collected_original() -> None:
    respx.get(f"{BASE}/x").mock(return_value=httpx.Response(200, json={}))
    copy = SyncAPIClient(base_url=BASE).with_options(max_retries=0)
    gc.collect()
    assert copy.request("GET", "/x", cast_to=dict) == {}


def test_repr_shows_settings_and_never_a_secret() -> None:
    client = SyncAPIClient(base_url=BASE, auth=StaticAuth("s3cr3t"), timeout=5.0, max_retries=1)
    assert repr(client) == (
        "SyncAPIClient(base_url='https://api.example.test/v1/', "
        "auth=StaticAuth(Authorization), timeout=5.0, max_retries=1)"
    )
    client.close()


# -- logging read when a client is built ------------------------------------------------------
@respx.mock
def test_debug_logging_turned_on_after_import(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class LateClient(SyncAPIClient):
        package_name = "late_sdk"

    respx.get(f"{BASE}/x").mock(return_value=httpx.Response(200, json={}))
    logger = logging.getLogger("late_sdk")
    try:
        LateClient(base_url=BASE).request("GET", "/x", cast_to=dict)
        assert "GET" not in capsys.readouterr().err
        monkeypatch.setenv("LATE_SDK_LOG", "debug")
        LateClient(base_url=BASE).request("GET", "/x", params={"token": "t0p"}, cast_to=dict)
        LateClient(base_url=BASE)  # a second client adds no second handler
        err = capsys.readouterr().err
        assert err.count("GET https://api.example.test/v1/x?token=[REDACTED] -> 200") == 1
        assert "t0p" not in err
    finally:
        logger.handlers.clear()
        logger.setLevel(logging.NOTSET)


# -- models -----------------------------------------------------------------------------------
def test_models_to_json() -> None:
    class Wire(BaseModel):
        user_id: str = "u"

    model = Wire.model_validate({"user_id": "7", "extra": [1]})
    assert json.loads(model.to_json()) == {"user_id": "7", "extra": [1]}
    assert model.to_json(indent=None) == '{"user_id":"7","extra":[1]}'


# -- tenacity strategies -------------------------------------------------------------------------
def test_retry_policy_builds_tenacity_strategies() -> None:
    call = CallState(0.0, idempotent=True)
    strategies = RetryPolicy(max_retries=4).strategies(
        call, clock=FakeClock(), rand=lambda: 1.0, log=logging.getLogger("t")
    )
    assert isinstance(strategies["retry"], retry_base)
    assert isinstance(strategies["wait"], wait_base)
    assert isinstance(strategies["stop"], tenacity.stop_after_attempt)
    assert strategies["stop"].max_attempt_number == 5
    assert callable(strategies["before_sleep"])
