"""The suite's conventions on Nexthink, and the document's gaps closed: per-call
options, typed raw and streamed responses (exports first), SIDs as documented,
scriptInfo typed, compressed exports, settings that keep the secret a Secret,
environment configuration and a token endpoint that is retried."""

from __future__ import annotations

import gzip
import io
import json

import httpx
import pytest
import respx

from nexthink_sdk import (
    APIResponse,
    AuthenticationError,
    ClientClosedError,
    InternalServerError,
    NexthinkClient,
    NqlResult,
    ScriptInfo,
)
from sdk_core import Secret
from tests.nexthink_sdk.conftest import make_async_client, make_client
from tests.nexthink_sdk.fake_nexthink import (
    API_HOST,
    CLIENT_ID,
    CLIENT_SECRET,
    LOGIN_HOST,
    FakeNexthink,
)
from tests.support import FakeClock

CSV = "device.name,crashes\nLAPTOP-1,3\nLAPTOP-2,0\n"


# -- per-call options and typed raw responses -----------------------------------------------
def test_per_call_options_on_an_nql_call(client: NexthinkClient, nexthink: FakeNexthink) -> None:
    client.nql.execute("#devices", timeout=7.0, extra_headers={"X-Trace": "q-1"})
    sent = nexthink.requests[-1]
    assert sent.extensions["timeout"]["read"] == 7.0
    assert sent.headers["X-Trace"] == "q-1"


def test_typed_raw_response_of_execute(client: NexthinkClient) -> None:
    raw: APIResponse[NqlResult] = client.nql.with_raw_response.execute("#devices")
    result: NqlResult = raw.parse()
    assert result.rows == 3
    assert raw.rate_limit.limit == 100
    assert raw.headers["X-Rate-Limit-Remaining"] == "99"


def _closed(response: httpx.Response) -> bool:
    return response.is_closed


# -- streamed responses ------------------------------------------------------------------------
def test_export_file_streams_with_its_headers(
    client: NexthinkClient, nexthink: FakeNexthink
) -> None:
    done = client.nql.wait_for_export(client.nql.start_export("#all_devices"))
    with client.nql.with_streaming_response.export_file(done) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv"
        assert not _closed(response.http_response)
        body = b"".join(response.iter_bytes(8))
    assert _closed(response.http_response)
    assert body.decode() == CSV
    assert all("authorization" not in r.headers for r in nexthink.storage_requests)


def test_csv_result_streams_line_by_line(client: NexthinkClient, nexthink: FakeNexthink) -> None:
    with client.nql.with_streaming_response.execute_csv("#devices") as response:
        assert nexthink.requests[-1].headers["Accept"] == "text/csv"
        lines = list(response.iter_lines())
    assert lines[0] == "device.name,device.os,crashes"
    with client.nql.with_streaming_response.execute("#devices") as response:
        parsed: NqlResult = response.parse()
    assert parsed.rows == 3


async def test_async_streamed_export_and_csv(routes: respx.Router, clock: FakeClock) -> None:
    async with make_async_client(clock) as client:
        done = await client.nql.wait_for_export(await client.nql.start_export("#all_devices"))
        async with client.nql.with_streaming_response.export_file(done) as response:
            body = b"".join([chunk async for chunk in response.iter_bytes()])
        async with client.nql.with_streaming_response.execute_csv("#devices") as streamed:
            lines = [line async for line in streamed.iter_lines()]
    assert body.decode() == CSV
    assert lines[0] == "device.name,device.os,crashes"


# -- the document's gaps -------------------------------------------------------------------------
def test_a_sid_of_any_revision_is_accepted_as_documented(
    client: NexthinkClient, nexthink: FakeNexthink
) -> None:
    client.campaigns.trigger("#welcome", ["S-2-5-21", "S-1-5-18"])
    assert json.loads(nexthink.requests[-1].content)["userSid"] == ["S-2-5-21", "S-1-5-18"]


def test_script_info_is_typed(client: NexthinkClient) -> None:
    action = client.remote_actions.details("#restart_service")
    assert isinstance(action.script_info, ScriptInfo)
    assert action.script_info.run_as == "LOCAL_SYSTEM"
    assert action.script_info.timeout_seconds == 120
    assert action.script_info.inputs == []


def test_compressed_export_is_asked_for_and_unpacked(
    client: NexthinkClient, nexthink: FakeNexthink
) -> None:
    job = client.nql.start_export("#all_devices", format="csv", compressed=True)
    assert json.loads(nexthink.requests[-1].content) == {
        "queryId": "#all_devices",
        "format": "csv",
        "compressed": True,
    }
    done = client.nql.wait_for_export(job)
    assert done.results_file_url is not None
    assert ".csv.gz?" in done.results_file_url
    packed = io.BytesIO()
    client.nql.download_export(done, packed)
    assert gzip.decompress(packed.getvalue()).decode() == CSV  # written as served
    frame = client.nql.export_to_dataframe(done)
    assert frame.to_dict("records") == [
        {"device.name": "LAPTOP-1", "crashes": 3},
        {"device.name": "LAPTOP-2", "crashes": 0},
    ]


def test_an_uncompressed_export_does_not_send_the_flag(
    client: NexthinkClient, nexthink: FakeNexthink
) -> None:
    client.nql.start_export("#all_devices")
    assert "compressed" not in json.loads(nexthink.requests[-1].content)
    client.nql.start_export("#all_devices", compressed=False)
    assert json.loads(nexthink.requests[-1].content)["compressed"] is False


# -- settings, secrets and environment -------------------------------------------------------------
def test_settings_hold_the_secret_as_a_secret(clock: FakeClock, routes: respx.Router) -> None:
    client = make_client(clock)
    assert isinstance(client.settings.client_secret, Secret)
    assert CLIENT_SECRET not in str(client.settings.client_secret)
    assert CLIENT_SECRET not in repr(client.settings)
    assert CLIENT_SECRET not in repr(client)
    assert "auth=TokenAuth(ClientCredentials)" in repr(client)
    assert client.settings.client_secret.reveal() == CLIENT_SECRET
    client.close()


def test_base_and_token_urls_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, clock: FakeClock, routes: respx.Router
) -> None:
    for var in ("NEXTHINK_INSTANCE", "NEXTHINK_REGION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NEXTHINK_BASE_URL", f"https://{API_HOST}")
    monkeypatch.setenv("NEXTHINK_TOKEN_URL", f"https://{LOGIN_HOST}/oauth2/default/v1/token")
    monkeypatch.setenv("NEXTHINK_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("NEXTHINK_CLIENT_SECRET", CLIENT_SECRET)
    with NexthinkClient(clock=clock) as client:
        assert client.nql.execute("#devices").rows == 3
        assert str(client.base_url) == f"https://{API_HOST}/"


# -- the token endpoint ---------------------------------------------------------------------------------
def test_token_endpoint_is_retried_like_any_idempotent_call(
    client: NexthinkClient, nexthink: FakeNexthink, clock: FakeClock
) -> None:
    nexthink.token_forced.extend(
        [
            httpx.Response(503, json={"code": "unavailable", "message": "later"}),
            httpx.ConnectError("refused"),
        ]
    )
    assert client.nql.execute("#devices").rows == 3
    assert len(nexthink.token_requests) == 3
    assert clock.sleeps == [0.5, 1.0]  # the client's backoff, on its fake clock


def test_token_endpoint_429_waits_as_asked(
    client: NexthinkClient, nexthink: FakeNexthink, clock: FakeClock
) -> None:
    nexthink.token_forced.append(
        httpx.Response(
            429, json={"code": "slow_down", "message": "x"}, headers={"Retry-After": "3"}
        )
    )
    client.nql.execute("#devices")
    assert clock.sleeps == [3.0]


def test_token_errors_say_they_came_from_the_token_request(
    client: NexthinkClient, nexthink: FakeNexthink
) -> None:
    nexthink.token_forced.extend(
        [httpx.Response(503, json={"code": "unavailable", "message": "later"})] * 3
    )
    with pytest.raises(InternalServerError) as info:
        client.nql.execute("#devices")
    assert len(nexthink.token_requests) == 3
    assert info.value.context is not None
    assert "token request to https://acme-login.eu.nexthink.cloud/" in str(info.value)
    assert nexthink.requests == []  # the API itself was never called


def test_a_refused_client_is_not_retried(client: NexthinkClient, nexthink: FakeNexthink) -> None:
    nexthink.token_forced.append(
        httpx.Response(401, json={"code": "invalid_client", "message": "bad client"})
    )
    with pytest.raises(AuthenticationError, match="token request"):
        client.nql.execute("#devices")
    assert len(nexthink.token_requests) == 1


async def test_async_token_endpoint_is_retried(
    routes: respx.Router, nexthink: FakeNexthink, clock: FakeClock
) -> None:
    nexthink.token_forced.append(httpx.Response(502, json={"code": "bad_gateway", "message": "x"}))
    async with make_async_client(clock) as client:
        assert (await client.nql.execute("#devices")).rows == 3
    assert len(nexthink.token_requests) == 2
    assert clock.sleeps == [0.5]


def test_an_export_after_close_is_a_typed_error(
    client: NexthinkClient, nexthink: FakeNexthink
) -> None:
    done = client.nql.wait_for_export(client.nql.start_export("#all_devices"))
    client.close()
    with pytest.raises(ClientClosedError, match="export file was not fetched"):
        client.nql.download_export(done, io.BytesIO())
    assert nexthink.storage_requests == []
