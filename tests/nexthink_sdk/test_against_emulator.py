"""The Nexthink client against the server's Nexthink emulator, over a real
socket, every request and answer checked against contracts/nexthink.openapi.yaml
(beside the respx tests)."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway_server.testing import LocalGateway
from nexthink_sdk import (
    AsyncNexthinkClient,
    Enrichment,
    NexthinkClient,
    RemoteActionNotEnabledError,
)
from sdk_core import BadRequestError, NotFoundError, RateLimitError
from tests.contract import load
from tests.emulator_support import AsyncChecked, Checked, prefixed

API = "https://acme.api.eu.nexthink.cloud"
LOGIN = "https://acme-login.eu.nexthink.cloud"
LAPTOP_1_UID = "6e6f6465-0000-4000-8000-000000000001"
LAPTOP_1_COLLECTOR = "c011ec70-0000-4000-8000-000000000001"
UNKNOWN_UUID = "00000000-0000-4000-8000-000000000000"


def where(server: LocalGateway) -> Any:
    root = server.emulator_url("nexthink")
    return prefixed(root, API, **{f"{root}/oauth2": f"{LOGIN}/oauth2"})


def client(server: LocalGateway, **options: Any) -> NexthinkClient:
    transport = Checked(load("nexthink.openapi.yaml"), where(server))
    creds = server.credentials("nexthink")
    return NexthinkClient(
        base_url=creds["base_url"],
        token_url=creds["token_url"],
        client_id=creds["client_id"],
        client_secret=creds["client_secret"],
        http_client=httpx.Client(transport=transport),
        **options,
    )


def emulator(server: LocalGateway) -> Any:
    return server.app.emulators["nexthink"]


def test_nql_runs_the_saved_query_over_the_seeded_table_with_its_parameters(
    gateway_server: LocalGateway,
) -> None:
    with client(gateway_server) as nx:
        week = nx.nql.execute_v2("#crashes", {"days": 7})
        month = nx.nql.execute_v2("#crashes")  # the default, 30 days
        v1 = nx.nql.execute("#devices_by_os", {"os": "Windows"})
        csv = nx.nql.execute_v2_csv("#crashes", {"days": 7})
        with pytest.raises(BadRequestError, match="days"):
            nx.nql.execute_v2("#crashes", {"days": "seven"})
        with pytest.raises(NotFoundError):
            nx.nql.execute_v2("#no_such_query")
    assert [r["device.name"] for r in week.data] == ["LAPTOP-1", "KIOSK-6"]
    assert {r["device.name"] for r in month.data} == {"LAPTOP-1", "LAPTOP-3", "KIOSK-6"}
    assert week.executed_query is not None
    assert "past 7 d" in week.executed_query
    assert v1.headers == ["device.name", "device.uid", "device.os"]
    assert all("Windows" in row[2] for row in v1.data)
    assert csv.splitlines() == ["device.name,crashes", "LAPTOP-1,3", "KIOSK-6,12"]


def test_execute_refuses_a_media_type_it_cannot_answer(gateway_server: LocalGateway) -> None:
    answer = httpx.post(
        gateway_server.emulator_url("nexthink") + "/api/v2/nql/execute",
        json={"queryId": "#crashes"},
        headers={"Accept": "application/xml", "Authorization": f"Bearer {_token(gateway_server)}"},
    )
    assert answer.status_code == 406


def _token(server: LocalGateway) -> str:
    creds = server.credentials("nexthink")
    answer = httpx.post(
        creds["token_url"],
        data={"grant_type": "client_credentials", "scope": "service:integration"},
        auth=(creds["client_id"], creds["client_secret"]),
    )
    answer.raise_for_status()
    token: str = answer.json()["access_token"]
    return token


def test_tokens_expire_by_the_server_clock_and_the_client_gets_a_new_one(
    gateway_server: LocalGateway,
) -> None:
    tokens = emulator(gateway_server).state.tokens
    with client(gateway_server) as nx:
        nx.nql.execute_v2("#crashes")
        issued = len(tokens)
        gateway_server.clock.advance(901)  # the server's clock only: the client believes its token
        assert nx.nql.execute_v2("#crashes").rows == 3
    assert len(tokens) == issued + 1
    bad = httpx.post(
        gateway_server.credentials("nexthink")["token_url"],
        data={"grant_type": "client_credentials"},
        auth=("nx-demo-client", "wrong"),
    )
    assert bad.status_code == 401


def test_an_export_moves_through_its_states_and_its_file_refuses_credentials(
    gateway_server: LocalGateway, tmp_path: Path
) -> None:
    clock = gateway_server.clock
    with client(gateway_server, sleep=clock.advance) as nx:  # its waits move the server's time
        job = nx.nql.start_export("#all_devices", format="csv")
        assert nx.nql.get_export_status(job.export_id).status == "SUBMITTED"
        clock.advance(1.5)
        assert nx.nql.get_export_status(job.export_id).status == "IN_PROGRESS"
        seen: list[str] = []
        done = nx.nql.wait_for_export(job, on_progress=lambda s, t: seen.append(s.status))
        size = nx.nql.download_export(done, tmp_path / "devices.csv")
        compressed = nx.nql.start_export("#all_devices", format="json", compressed=True)
        clock.advance(10)
        packed = nx.nql.wait_for_export(compressed)
        failing = nx.nql.start_export("#failing_export")
        clock.advance(10)
        failed = nx.nql.get_export_status(failing.export_id)
    assert seen[-1] == "COMPLETED"
    text = (tmp_path / "devices.csv").read_text()
    assert size == len(text.encode())
    assert text.splitlines()[0] == "device.name,device.os,crashes"
    assert len(text.splitlines()) == 7
    assert done.results_file_url
    assert "/emulators/nexthink-storage/" in done.results_file_url
    leaked = httpx.get(done.results_file_url, headers={"Authorization": "Bearer anything"})
    assert leaked.status_code == 400
    assert "Only one auth mechanism" in leaked.text
    forged = httpx.get(done.results_file_url.replace("token=", "token=0"))
    assert forged.status_code == 403
    assert packed.results_file_url
    body = httpx.get(packed.results_file_url).content
    assert b'"device.name"' in gzip.decompress(body)
    assert failed.status == "ERROR"
    assert failed.error_description == "Query timed out"
    clock.advance(601)  # the pre-signed URL has run out
    assert httpx.get(done.results_file_url).status_code == 403


def test_enrichment_applies_to_known_devices_and_reports_the_others(
    gateway_server: LocalGateway,
) -> None:
    with client(gateway_server) as nx:
        outcome = nx.enrichment.set_fields(
            [
                Enrichment.of(
                    ("device/device/name", "LAPTOP-1"), {"device/device/#asset_tag": "A-1"}
                ),
                Enrichment.of(
                    ("device/device/name", "GHOST-9"), {"device/device/#asset_tag": "A-9"}
                ),
            ],
            domain="ServiceNow",
        )
        tags = nx.nql.execute_v2("#asset_tags")
    assert outcome.status_code == 207
    assert len(outcome.succeeded) == 1
    assert [f.message for f in outcome.failed] == ["Object GHOST-9 not found"]
    assert {"device.name": "LAPTOP-1", "device.#asset_tag": "A-1"} in tags.data


def test_campaigns_answer_per_user(gateway_server: LocalGateway) -> None:
    with client(gateway_server) as nx:
        result = nx.campaigns.trigger("#satisfaction_survey", ["S-1-5-21-1001", "S-1-5-21-9999"])
        everyone = nx.campaigns.trigger("#satisfaction_survey", ["S-1-5-21-1002"])
        with pytest.raises(NotFoundError):
            nx.campaigns.trigger("#no_campaign", ["S-1-5-21-1001"])
    assert result.status_code == 207
    assert len(result.succeeded) == 1
    assert len(result.failed) == 1
    assert everyone.status_code == 200


def test_remote_actions_and_workflows(gateway_server: LocalGateway) -> None:
    with client(gateway_server) as nx:
        actions = nx.remote_actions.list()
        requested = nx.remote_actions.execute("#restart_service", [LAPTOP_1_COLLECTOR])
        with pytest.raises(RemoteActionNotEnabledError):
            nx.remote_actions.execute("#collect_logs", [LAPTOP_1_COLLECTOR])
        workflows = nx.workflows.list()
        run = nx.workflows.execute(
            "#password_reset", devices=[LAPTOP_1_COLLECTOR], users=["S-1-5-21-1001"]
        )
        run2 = nx.workflows.execute_v2("#password_reset", users=[{"upn": "ada@example.com"}])
        event = nx.workflows.trigger_event(workflows[0].uuid or "", run.executions_uuids[0])
        with pytest.raises(NotFoundError):
            nx.workflows.trigger_event(workflows[0].uuid or "", UNKNOWN_UUID)
        with pytest.raises(BadRequestError):
            nx.workflows.execute("#password_reset", devices=[UNKNOWN_UUID])
        with pytest.raises(Exception, match="403"):
            nx.workflows.execute("#disk_cleanup", devices=[LAPTOP_1_COLLECTOR])
    assert {a.id for a in actions} == {"#restart_service", "#collect_logs"}
    assert requested.request_id
    assert len(run.executions_uuids) == 2
    assert len(run2.executions_uuids) == 1
    assert event.request_uuid


def test_deleted_devices_leave_the_tables(tmp_path: Path) -> None:
    with LocalGateway(tmp_path, emulate="nexthink") as server, client(server) as nx:
        result = nx.data_management.delete_devices([LAPTOP_1_UID, UNKNOWN_UUID])
        left = nx.nql.execute_v2("#all_devices")
    assert [d.uid for d in result.succeeded] == [LAPTOP_1_UID]
    assert len(result.failed) == 1
    assert "LAPTOP-1" not in {r["device.name"] for r in left.data}


@pytest.fixture
def tight(tmp_path: Path) -> Iterator[LocalGateway]:
    with LocalGateway(tmp_path, emulate="nexthink", nexthink_rate_per_minute=3) as server:
        yield server


def test_past_the_rate_a_429_with_retry_after(tight: LocalGateway) -> None:
    with client(tight, max_retries=0) as nx:
        for _ in range(3):
            nx.nql.execute_v2("#crashes")
        with pytest.raises(RateLimitError) as refused:
            nx.nql.execute_v2("#crashes")
        assert int(refused.value.response.headers["Retry-After"]) >= 1
        tight.clock.advance(60)
        assert nx.nql.execute_v2("#crashes").rows == 3


async def test_the_async_client_against_the_emulator(
    async_nexthink_client: AsyncNexthinkClient, gateway_server: LocalGateway
) -> None:
    transport = AsyncChecked(load("nexthink.openapi.yaml"), where(gateway_server))
    creds = gateway_server.credentials("nexthink")
    async with AsyncNexthinkClient(
        base_url=creds["base_url"],
        token_url=creds["token_url"],
        client_id=creds["client_id"],
        client_secret=creds["client_secret"],
        http_client=httpx.AsyncClient(transport=transport),
    ) as nx:
        result = await nx.nql.execute_v2("#crashes", {"days": 7})
    assert result.rows == 2
    assert (await async_nexthink_client.nql.execute("#users")).rows == 6
