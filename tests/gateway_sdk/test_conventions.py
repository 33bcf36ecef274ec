"""The suite's conventions on the gateway clients, against the real gateway
in-process (every exchange contract-checked): per-call options, typed raw
responses, pages fetched at the call, NOT_GIVEN against None."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from gateway_sdk import (
    APIResponse,
    AsyncCustomerClient,
    AsyncDeviceClient,
    AsyncPage,
    CustomerClient,
    Device,
    DeviceClient,
    HeartbeatResult,
    InputValidationError,
    RequestOverrides,
    SDKError,
    Session,
    SessionCommand,
    SyncPage,
)
from gateway_sdk._raw import (
    AsyncCustomerClientWithRawResponse,
    AsyncDeviceClientWithRawResponse,
    AsyncDevicesWithRawResponse,
    AsyncSessionsWithRawResponse,
    CustomerClientWithRawResponse,
    DeviceClientWithRawResponse,
    DevicesWithRawResponse,
    SessionsWithRawResponse,
)
from tests.gateway_sdk.clients import customer, registered
from tests.gateway_sdk.conftest import BASE, in_process
from tests.gateway_support import customer_token


def recorded(http: TestClient) -> list[httpx.Request]:
    seen: list[httpx.Request] = []
    http.event_hooks["request"].append(seen.append)
    return seen


def provisioned(cust: CustomerClient, count: int) -> None:
    for i in range(count):
        cust.devices.provision(f"dev-{i:03d}")


# -- per-call options -------------------------------------------------------------------
def test_per_call_timeout_headers_and_body_reach_the_request(
    app: Starlette, http: TestClient
) -> None:
    cust = customer(app, http)
    device = registered(app, http, "dev-001")
    seen = recorded(http)
    beat = device.heartbeat(
        timeout=4.5,
        extra_headers={"X-Trace": "t-1"},
        extra_body={"diagnostics": {"disk": "ok"}},  # a field the call does not name
    )
    assert beat.success
    sent = seen[-1]
    assert sent.extensions["timeout"]["read"] == 4.5
    assert sent.headers["X-Trace"] == "t-1"
    assert json.loads(sent.content)["diagnostics"] == {"disk": "ok"}
    assert cust.devices.status("dev-001", extra_headers={"X-Trace": "t-2"}).diagnostics == {
        "disk": "ok"
    }
    assert seen[-1].headers["X-Trace"] == "t-2"
    device.heartbeat()
    plain = seen[-1]
    assert plain.extensions["timeout"]["read"] == 60.0  # the client's, again
    assert "X-Trace" not in plain.headers
    assert "diagnostics" not in json.loads(plain.content)


def test_every_one_call_method_takes_the_options(app: Starlette, http: TestClient) -> None:
    cust = customer(app, http)
    device = registered(app, http, "dev-001")
    seen = recorded(http)
    tag: RequestOverrides = {"extra_headers": {"X-Trace": "each"}}
    session = cust.sessions.create("dev-001", **tag)
    command = cust.sessions.enqueue(session.id, "ping", **tag)
    (claimed,) = device.claim(visibility_timeout_ms=30_000, **tag)
    device.extend(claimed, extension_ms=10_000, **tag)
    device.complete(claimed, output="pong", **tag)
    cust.sessions.get(session.id, **tag)
    cust.devices.provision("dev-002", **tag)
    cust.system_info(**tag)
    cust.health(**tag)
    cust.readiness(**tag)
    device.version(**tag)
    assert command.status == "pending"
    calls = [r for r in seen if r.url.path != "/api/v1/device/auth"]  # the token: not a call
    assert len(calls) == 11
    assert all(r.headers["X-Trace"] == "each" for r in calls)


def test_list_options_apply_to_every_page(app: Starlette, http: TestClient) -> None:
    cust = customer(app, http)
    provisioned(cust, 5)
    seen = recorded(http)
    names = [d.id for d in cust.devices.list(page_size=2, extra_headers={"X-Trace": "all"})]
    assert len(names) == 5
    assert [r.headers["X-Trace"] for r in seen] == ["all"] * 3


def test_an_idempotency_key_is_refused_before_sending() -> None:
    """The gateway does not deduplicate by Idempotency-Key: a key would only make
    sdk_core retry a POST (an enqueue, twice, is two commands)."""

    def no_network(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"sent {request.method} {request.url}")

    http = httpx.Client(transport=httpx.MockTransport(no_network))
    device = DeviceClient(BASE, "dev-001", "s3cret", http_client=http)
    cust = CustomerClient(BASE, "eyJ.token.sig", http_client=http)
    for call in (
        lambda: device.claim(idempotency_key="k-1"),  # type: ignore[call-arg]
        lambda: device.register("code", idempotency_key="k-1"),  # type: ignore[call-arg]
        lambda: cust.sessions.enqueue("s-1", "ping", idempotency_key="k-1"),  # type: ignore[call-arg]
        lambda: cust.devices.list(idempotency_key="k-1"),  # type: ignore[call-arg]
    ):
        with pytest.raises(InputValidationError) as caught:
            call()
        assert caught.value.field == "idempotency_key"
    with pytest.raises(InputValidationError) as caught:
        device.heartbeat(timeuot=5)  # type: ignore[call-arg]
    assert caught.value.field == "timeuot"


# -- raw responses, typed -------------------------------------------------------------------
def test_raw_responses_are_typed_and_carry_the_headers(app: Starlette, http: TestClient) -> None:
    cust = customer(app, http)
    device = registered(app, http, "dev-001")
    raw: APIResponse[HeartbeatResult] = device.with_raw_response.heartbeat(
        extra_headers={"X-Request-ID": "req-beat-1"}
    )
    assert raw.parse().success
    assert (raw.status_code, raw.request_id) == (200, "req-beat-1")
    assert raw.rate_limit.limit == 10**6  # the test app's per-device limit
    session = cust.sessions.create("dev-001")
    got: APIResponse[Session] = cust.with_raw_response.sessions.get(session.id)
    assert got.parse().id == session.id
    assert got.request_id is not None
    assert got.url.path == f"/api/v1/customer/sessions/{session.id}"
    claimed = device.with_raw_response.claim()
    assert claimed.parse() == []
    assert cust.with_raw_response.version().parse() == "0.1.0"
    assert cust.devices.with_raw_response.status("dev-001").parse().id == "dev-001"


def test_the_raw_response_of_a_list_is_its_first_page(app: Starlette, http: TestClient) -> None:
    cust = customer(app, http)
    provisioned(cust, 5)
    seen = recorded(http)
    raw = cust.with_raw_response.devices.list(page_size=2)
    page: SyncPage[Device] = raw.parse()
    assert [d.id for d in page.items] == ["dev-000", "dev-001"]
    assert page.response is not None
    assert page.response.request_id == raw.request_id
    assert len(seen) == 1


def test_a_with_options_copy_has_its_own_raw_view(app: Starlette, http: TestClient) -> None:
    device = registered(app, http, "dev-001")
    assert device.with_raw_response is device.with_raw_response  # built once
    seen = recorded(http)
    quick = device.with_options(timeout=3.0)
    assert quick.with_raw_response is not device.with_raw_response
    quick.with_raw_response.heartbeat()
    assert seen[-1].extensions["timeout"]["read"] == 3.0
    device.with_raw_response.heartbeat()
    assert seen[-1].extensions["timeout"]["read"] == 60.0


def test_raw_views_of_the_twins_match() -> None:
    clients = (
        DeviceClient(BASE, "dev-001", "s"),
        AsyncDeviceClient(BASE, "dev-001", "s"),
        CustomerClient(BASE, "t"),
        AsyncCustomerClient(BASE, "t"),
    )
    views = [c.with_raw_response for c in clients]
    for sync_view, async_view, sync_cls, async_cls in (
        (views[0], views[1], DeviceClientWithRawResponse, AsyncDeviceClientWithRawResponse),
        (views[2], views[3], CustomerClientWithRawResponse, AsyncCustomerClientWithRawResponse),
    ):
        assert (type(sync_view), type(async_view)) == (sync_cls, async_cls)
        assert set(vars(sync_view)) - {"_client"} == set(vars(async_view)) - {"_client"}
    cust, acust = clients[2], clients[3]
    assert isinstance(cust.with_raw_response.devices, DevicesWithRawResponse)
    assert isinstance(acust.with_raw_response.devices, AsyncDevicesWithRawResponse)
    assert isinstance(cust.with_raw_response.sessions, SessionsWithRawResponse)
    assert isinstance(acust.with_raw_response.sessions, AsyncSessionsWithRawResponse)
    assert set(vars(cust.devices.with_raw_response)) == set(vars(acust.devices.with_raw_response))
    assert set(vars(cust.sessions.with_raw_response)) == set(vars(acust.sessions.with_raw_response))
    # every public method of a resource has its raw twin
    for resource in (cust.devices, cust.sessions):
        public = {n for n in dir(resource) if not n.startswith("_")} - {"with_raw_response"}
        assert public == set(vars(resource.with_raw_response))


# -- pages -------------------------------------------------------------------------------
def test_the_first_page_is_fetched_at_the_call(app: Starlette, http: TestClient) -> None:
    cust = customer(app, http)
    provisioned(cust, 7)
    seen = recorded(http)
    first = cust.devices.list(page_size=3)
    assert len(seen) == 1  # before any loop step
    assert (len(first), first.total, first.has_next_page()) == (3, 7, True)
    assert first.request_id is not None  # the gateway's X-Request-ID
    second = first.get_next_page()
    assert second.params["offset"] == 3
    third = second.get_next_page()
    assert (len(third), third.has_next_page()) == (1, False)
    with pytest.raises(SDKError, match="last page"):
        third.get_next_page()
    assert [len(p) for p in first.iter_pages()] == [3, 3, 1]
    assert [d.id for d in second] == [f"dev-{i:03d}" for i in range(3, 7)]
    # code written against the older paginator still runs
    assert first.first_page() is first
    assert [[d.id for d in p.items] for p in first.pages()][2] == ["dev-006"]


def test_a_refused_first_page_fails_at_the_call(app: Starlette, http: TestClient) -> None:
    cust = customer(app, http)
    intruder = CustomerClient(BASE, "not-a-jwt", http_client=http)
    with pytest.raises(SDKError) as caught:
        intruder.devices.list()  # the 401 comes here, not at the first loop step
    assert getattr(caught.value, "status_code", None) == 401
    assert list(cust.devices.list()) == []


async def test_async_pages(app: Starlette, tmp_path: Path) -> None:
    async with app.router.lifespan_context(app), in_process(app) as http:
        cust = AsyncCustomerClient(BASE, customer_token(app, "cust-a"), http_client=http)
        for i in range(5):
            await cust.devices.provision(f"dev-{i:03d}")
        page: AsyncPage[Device] = await cust.devices.list(page_size=2)
        assert (len(page), page.total, page.has_next_page()) == (2, 5, True)
        sizes = [len(p) async for p in page.iter_pages()]
        assert sizes == [2, 2, 1]
        assert [d.id async for d in cust.devices.list(page_size=2)][-1] == "dev-004"
        raw = await cust.with_raw_response.devices.list(page_size=4)
        assert [d.id for d in raw.parse().items][-1] == "dev-003"
        got = await cust.devices.with_raw_response.status("dev-000", extra_headers={"X-A": "1"})
        assert got.http_request.headers["X-A"] == "1"
        assert got.parse().status == "provisioned"


def test_a_sessions_commands_are_pages(app: Starlette, http: TestClient) -> None:
    """``sessions.commands`` pages what ``GET .../sessions/{id}`` answers a page
    at a time (``commands`` and ``commandsTotal``), oldest first."""
    cust = customer(app, http)
    registered(app, http, "dev-001")
    session = cust.sessions.create("dev-001")
    ids = [cust.sessions.enqueue(session.id, f"job_{i}").id for i in range(7)]
    seen = recorded(http)
    first: SyncPage[SessionCommand] = cust.sessions.commands(
        session.id, page_size=3, extra_headers={"X-Trace": "cmds"}
    )
    assert len(seen) == 1  # fetched at the call
    assert (len(first), first.total, first.has_next_page()) == (3, 7, True)
    assert [c.id for c in first.items] == ids[:3]
    assert [len(p) for p in first.iter_pages()] == [3, 3, 1]
    assert [c.id for c in first] == ids
    assert first.get_next_page().params == {"limit": 3, "offset": 3}
    assert {r.headers["X-Trace"] for r in seen} == {"cmds"}  # on every page
    raw = cust.sessions.with_raw_response.commands(session.id, page_size=2)
    page = raw.parse()
    assert [c.id for c in page.items] == ids[:2]
    assert page.request_id == raw.request_id
    assert [c.id for c in cust.sessions.commands(session.id)] == ids  # one page of 50
    before = len(seen)
    with pytest.raises(InputValidationError) as caught:
        cust.sessions.commands(session.id, page_size=201)
    assert caught.value.field == "page_size"
    assert len(seen) == before


def test_a_page_of_large_results_ends_early_and_the_next_follows(
    app: Starlette, http: TestClient
) -> None:
    """The server ends a page before its results pass 2,000,000 characters: a
    page shorter than ``page_size`` is not the last while ``commandsTotal`` says more."""
    cust = customer(app, http)
    device = registered(app, http, "dev-001")
    session = cust.sessions.create("dev-001")
    for i in range(3):
        cust.sessions.enqueue(session.id, f"dump_{i}")
    for _ in range(3):
        (claimed,) = device.claim()
        device.complete(claimed, output="o" * 900_000)
    first = cust.sessions.commands(session.id, page_size=3)
    assert (len(first), first.total, first.has_next_page()) == (2, 3, True)
    assert [len(p) for p in first.iter_pages()] == [2, 1]
    assert [c.type for c in first] == ["dump_0", "dump_1", "dump_2"]


# -- omitted is not null -------------------------------------------------------------------
def test_diagnostics_left_out_is_not_sent_and_none_sends_null(
    app: Starlette, http: TestClient
) -> None:
    cust = customer(app, http)
    device = registered(app, http, "dev-001")
    seen = recorded(http)
    device.heartbeat(diagnostics={"disk": "ok"})
    device.heartbeat()
    device.heartbeat(diagnostics=None)  # the contract allows null
    bodies = [json.loads(r.content) for r in seen if r.url.path.endswith("/heartbeat")]
    assert [b.get("diagnostics", "absent") for b in bodies] == [{"disk": "ok"}, "absent", None]
    # the gateway keeps the last diagnostics either way
    assert cust.devices.status("dev-001").diagnostics == {"disk": "ok"}
