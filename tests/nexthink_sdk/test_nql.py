"""NQL execute and exports: requests validated against the contract, results typed."""

from __future__ import annotations

import datetime as dt
import io
import json
import tracemalloc
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from nexthink_sdk import (
    ExportFailedError,
    ExportStatus,
    ExportTimeoutError,
    InputValidationError,
    NexthinkClient,
    NotFoundError,
)
from tests.contract import Contract
from tests.nexthink_sdk.conftest import make_async_client
from tests.nexthink_sdk.fake_nexthink import STORAGE_HOST, FakeNexthink
from tests.support import FakeClock


def sent(nexthink: FakeNexthink) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(nexthink.requests[-1].content)
    return body


def test_execute_v1_rows_and_dicts(
    client: NexthinkClient, nexthink: FakeNexthink, contract: Contract
) -> None:
    result = client.nql.execute("#devices_with_crashes")
    assert result.headers == ["device.name", "device.os", "crashes"]
    assert result.rows == 3
    assert next(result.iter_dicts()) == {
        "device.name": "LAPTOP-1",
        "device.os": "Windows 11",
        "crashes": 3,
    }
    request = nexthink.requests[-1]
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Authorization"] == "Bearer tok-1"
    assert contract.requests_checked >= 2  # token + execute


def test_execute_v2_rows_as_objects(client: NexthinkClient) -> None:
    result = client.nql.execute_v2("#devices_with_crashes")
    assert result.data[2] == {"device.name": "LAPTOP-3", "device.os": "Windows 10", "crashes": 7}
    assert result.executed_query == "devices | list name, os, crashes"


def test_typed_parameters_are_serialised(client: NexthinkClient, nexthink: FakeNexthink) -> None:
    client.nql.execute_v2(
        "#crashes_since",
        {
            "since": dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            "day": dt.date(2024, 6, 2),
            "limit": 10,
            "ratio": 0.5,
            "only_windows": True,
            "name": "LAPTOP-1",
        },
        utc_times=True,
    )
    assert sent(nexthink)["parameters"] == {
        "since": "2024-06-01 10:00:00",
        "day": "2024-06-02",
        "limit": 10,
        "ratio": 0.5,
        "only_windows": True,
        "name": "LAPTOP-1",
    }
    assert nexthink.requests[-1].headers["x-utc-times"] == "true"


def test_csv_variants_send_accept_text_csv(client: NexthinkClient, nexthink: FakeNexthink) -> None:
    text = client.nql.execute_csv("#devices")
    assert text.splitlines()[0] == "device.name,device.os,crashes"
    assert nexthink.requests[-1].headers["Accept"] == "text/csv"
    assert client.nql.execute_v2_csv("#devices").count("\n") == 4


def test_results_convert_to_dataframes(client: NexthinkClient) -> None:
    frame = client.nql.execute("#devices").to_dataframe()
    assert list(frame.columns) == ["device.name", "device.os", "crashes"]
    assert frame["crashes"].sum() == 10
    frame2 = client.nql.execute_v2("#devices").to_dataframe()
    assert frame2.shape == (3, 3)


@pytest.mark.parametrize("query_id", ["devices", "#A", "#Devices", "#x", "#bad-dash", ""])
def test_query_id_validated_before_any_request(
    client: NexthinkClient, nexthink: FakeNexthink, query_id: str
) -> None:
    with pytest.raises(InputValidationError) as info:
        client.nql.execute(query_id)
    assert info.value.field == "query_id"
    assert nexthink.requests == []
    assert nexthink.token_requests == []


def test_unsupported_parameter_type_is_refused(
    client: NexthinkClient, nexthink: FakeNexthink
) -> None:
    with pytest.raises(InputValidationError) as info:
        client.nql.execute("#devices", {"ids": [1, 2]})  # type: ignore[dict-item]
    assert info.value.field == "parameters.ids"
    assert nexthink.requests == []


def test_execute_is_retried_on_5xx_as_a_read_only_post(
    client: NexthinkClient, nexthink: FakeNexthink, clock: FakeClock
) -> None:
    nexthink.forced.append(httpx.Response(502, json={"code": "BAD_GATEWAY", "message": "x"}))
    assert client.nql.execute("#devices").rows == 3
    assert len(nexthink.requests) == 2


# -- exports -----------------------------------------------------------------------
def test_export_start_wait_download(
    client: NexthinkClient, nexthink: FakeNexthink, clock: FakeClock, tmp_path: Path
) -> None:
    job = client.nql.start_export("#all_devices", {"days": 7}, format="csv")
    assert sent(nexthink) == {"queryId": "#all_devices", "parameters": {"days": 7}, "format": "csv"}
    seen: list[tuple[str, float]] = []
    done = client.nql.wait_for_export(job, on_progress=lambda s, t: seen.append((s.status, t)))
    assert done.status == "COMPLETED"
    assert [s for s, _ in seen] == ["SUBMITTED", "IN_PROGRESS", "COMPLETED"]
    assert clock.sleeps == [1.0, 2.0]  # exponential backoff between polls
    assert "X-Amz-Signature" not in repr(done)

    target = tmp_path / "devices.csv"
    assert client.nql.download_export(done, target) == target.stat().st_size
    assert target.read_text().startswith("device.name,crashes")
    buffer = io.BytesIO()
    client.nql.download_export(done, buffer)
    assert buffer.getvalue() == target.read_bytes()
    frame = client.nql.export_to_dataframe(done)
    assert list(frame["device.name"]) == ["LAPTOP-1", "LAPTOP-2"]


def test_no_nexthink_credential_reaches_the_storage_url(
    client: NexthinkClient, nexthink: FakeNexthink, clock: FakeClock
) -> None:
    client = client.with_options(default_headers={"X-Tenant": "acme"})
    done = client.nql.wait_for_export(client.nql.start_export("#all_devices"))
    b"".join(client.nql.iter_export(done))
    assert nexthink.storage_requests
    for request in nexthink.storage_requests:
        assert "authorization" not in request.headers
        assert "x-tenant" not in request.headers
        assert all(tok not in str(request.headers) for tok in nexthink.tokens)
        assert request.url.host == STORAGE_HOST


def test_download_refused_by_storage_is_a_typed_error(client: NexthinkClient) -> None:
    from nexthink_sdk import PermissionDeniedError

    with pytest.raises(PermissionDeniedError) as info:
        client.nql.download_export(f"https://{STORAGE_HOST}/exports/expired.csv", io.BytesIO())
    assert "AccessDenied" in info.value.message


def test_download_needs_a_completed_export(client: NexthinkClient) -> None:
    with pytest.raises(InputValidationError):
        client.nql.download_export(ExportStatus(status="IN_PROGRESS"), io.BytesIO())


def test_export_error_raises_with_the_description(client: NexthinkClient) -> None:
    job = client.nql.start_export("#failing_export")
    with pytest.raises(ExportFailedError) as info:
        client.nql.wait_for_export(job)
    assert info.value.description == "Query timed out"
    assert info.value.export_id == job.export_id


def test_export_wait_times_out(
    client: NexthinkClient, nexthink: FakeNexthink, clock: FakeClock
) -> None:
    nexthink.export_polls = 1_000
    job = client.nql.start_export("#slow_export")
    with pytest.raises(ExportTimeoutError) as info:
        client.nql.wait_for_export(job, timeout=100, max_poll_interval=16)
    assert isinstance(info.value, TimeoutError)
    assert info.value.status.status == "IN_PROGRESS"
    assert sum(clock.sleeps) == pytest.approx(100)
    assert max(clock.sleeps) == 16


def test_token_is_refreshed_during_a_long_export_wait(
    client: NexthinkClient, nexthink: FakeNexthink, clock: FakeClock
) -> None:
    nexthink.export_polls = 60  # at most 30 s apart: about half an hour of polling
    job = client.nql.start_export("#big_export")
    done = client.nql.wait_for_export(job, timeout=3_600, max_poll_interval=30)
    assert done.status == "COMPLETED"
    assert clock.now - 1_000 > 1_500
    # 900 s tokens refreshed 300 s ahead: a new token about every 600 s, never a 401
    assert len(nexthink.token_requests) >= 3
    assert all(r.headers["Authorization"].startswith("Bearer tok-") for r in nexthink.requests)
    assert len(nexthink.requests) == 61


def test_unknown_export_is_not_found(client: NexthinkClient) -> None:
    with pytest.raises(NotFoundError):
        client.nql.get_export_status("exp-missing")


def test_200_mb_download_streams_in_constant_memory(
    clock: FakeClock, nexthink: FakeNexthink, tmp_path: Path
) -> None:
    chunk = b"x" * (1 << 20)

    def big_file(request: httpx.Request) -> httpx.Response:
        assert "authorization" not in request.headers
        return httpx.Response(200, content=(chunk for _ in range(200)))

    from tests.nexthink_sdk.conftest import make_client

    with respx.mock() as router:
        router.get(f"https://{STORAGE_HOST}/big.csv").mock(side_effect=big_file)
        with make_client(clock) as client:
            tracemalloc.start()
            base, _ = tracemalloc.get_traced_memory()
            written = client.nql.download_export(
                f"https://{STORAGE_HOST}/big.csv", tmp_path / "big.csv"
            )
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    assert written == 200 * (1 << 20)
    assert (tmp_path / "big.csv").stat().st_size == written
    assert peak - base < 20 * (1 << 20)


# -- async twin --------------------------------------------------------------------
async def test_async_nql_and_export(
    routes: respx.Router, nexthink: FakeNexthink, clock: FakeClock
) -> None:
    async with make_async_client(clock) as client:
        assert (await client.nql.execute("#devices")).rows == 3
        assert (await client.nql.execute_v2("#devices")).data[0]["crashes"] == 3
        assert (await client.nql.execute_csv("#devices")).startswith("device.name")
        job = await client.nql.start_export("#all_devices")
        done = await client.nql.wait_for_export(job)
        chunks = [c async for c in client.nql.iter_export(done)]
        assert b"".join(chunks).startswith(b"device.name,crashes")
        buffer = io.BytesIO()
        assert await client.nql.download_export(done, buffer) == len(b"".join(chunks))
        frame = await client.nql.export_to_dataframe(done)
        assert frame.shape == (2, 2)
        with pytest.raises(InputValidationError):
            await client.nql.execute("no-hash")
    assert clock.sleeps == [1.0, 2.0]
    assert all("authorization" not in r.headers for r in nexthink.storage_requests)
