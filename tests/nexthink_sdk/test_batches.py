"""Enrichment, campaigns, remote actions, workflows and deletions: validated, multi-status."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from nexthink_sdk import (
    DeviceRef,
    Enrichment,
    InputValidationError,
    MultiStatusError,
    NexthinkClient,
    NotFoundError,
    RemoteActionNotEnabledError,
    UserRef,
)
from tests.nexthink_sdk.conftest import make_async_client
from tests.nexthink_sdk.fake_nexthink import FakeNexthink
from tests.support import FakeClock

SID = "S-1-5-21-1004336348-1177238915-682003330-1001"
U1 = "3f1e2d4c-5b6a-4978-8a1b-2c3d4e5f6a7b"
U2 = "7c6b5a49-3827-4160-9f8e-7d6c5b4a3928"


def sent(nexthink: FakeNexthink) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(nexthink.requests[-1].content)
    return body


def enrichment(value: str) -> Enrichment:
    return Enrichment.of(("device/device/name", value), {"device/device/#asset_tag": f"A-{value}"})


# -- enrichment ----------------------------------------------------------------------
def test_enrichment_207_with_three_of_five_failing(
    client: NexthinkClient, nexthink: FakeNexthink
) -> None:
    items = [enrichment(v) for v in ["LAPTOP-1", "BAD-2", "LAPTOP-3", "BAD-4", "BAD-5"]]
    result = client.enrichment.set_fields(items, domain="ServiceNow")
    assert result.status_code == 207
    assert result.is_partial
    assert not result.ok
    assert [i.key[1] for i in result.succeeded] == ["LAPTOP-1", "LAPTOP-3"]
    assert [f.item.key[1] for f in result.failed] == ["BAD-2", "BAD-4", "BAD-5"]
    assert result.failed[0].errors[0].message == "Object BAD-2 not found"
    assert result.failed[0].errors[0].code == "NOT_FOUND"
    with pytest.raises(MultiStatusError, match="3 of 5 items failed"):
        result.raise_for_failures()
    assert sent(nexthink)["enrichments"][0] == {
        "identification": [{"name": "device/device/name", "value": "LAPTOP-1"}],
        "fields": [{"name": "device/device/#asset_tag", "value": "A-LAPTOP-1"}],
    }
    assert sent(nexthink)["domain"] == "ServiceNow"


def test_enrichment_200_and_400(client: NexthinkClient) -> None:
    ok = client.enrichment.set_fields([enrichment("LAPTOP-1")], domain="ServiceNow")
    assert ok.ok
    assert ok.status_code == 200
    ok.raise_for_failures()
    none = client.enrichment.set_fields(
        [enrichment("BAD-1"), enrichment("BAD-2")], domain="ServiceNow"
    )
    assert none.status_code == 400
    assert not none.succeeded
    assert len(none.failed) == 2
    assert not none.is_partial


def test_enrichment_malformed_400_fails_every_item(
    client: NexthinkClient, nexthink: FakeNexthink
) -> None:
    nexthink.forced.append(
        httpx.Response(400, json={"code": "INVALID_FIELD", "message": "Unknown field"})
    )
    result = client.enrichment.set_fields([enrichment("A"), enrichment("B")], domain="ServiceNow")
    assert [f.errors[0].code for f in result.failed] == ["INVALID_FIELD", "INVALID_FIELD"]


def test_a_failure_under_a_key_no_item_has_is_kept_apart_and_not_ok(
    client: NexthinkClient, nexthink: FakeNexthink
) -> None:
    # The server names the device as it stores it (lower case), not as it was sent.
    rewritten = {"identification": [{"name": "device/device/name", "value": "laptop-9"}]}
    nexthink.forced.append(
        httpx.Response(
            207,
            json={
                "status": "partial_success",
                "errors": [{**rewritten, "errors": [{"message": "Object laptop-9 locked"}]}],
            },
        )
    )
    result = client.enrichment.set_fields(
        [enrichment("LAPTOP-9"), enrichment("LAPTOP-1")], domain="ServiceNow"
    )
    assert [f.item.key[1] for f in result.failed] == []  # every failed item is an item sent
    assert [(u.key, u.message) for u in result.unmatched] == [
        (("device/device/name", "laptop-9"), "Object laptop-9 locked")
    ]
    assert not result.ok
    assert result.is_partial
    with pytest.raises(MultiStatusError, match="1 failures named keys no item has") as info:
        result.raise_for_failures()
    assert info.value.unmatched == result.unmatched


def test_enrichment_accepts_plain_dicts(client: NexthinkClient) -> None:
    result = client.enrichment.set_fields(
        [
            {
                "identification": [{"name": "device/device/name", "value": "X"}],
                "fields": [{"name": "f", "value": 1}],
            }
        ],
        domain="ServiceNow",
    )
    assert result.ok


@pytest.mark.parametrize(
    ("enrichments", "field"),
    [
        ([], "enrichments"),
        ([enrichment("A")] * 5_001, "enrichments"),
        (
            [{"identification": [], "fields": [{"name": "f", "value": 1}]}],
            "enrichments[0].identification",
        ),
        (
            [{"identification": [{"name": "n", "value": "v"}], "fields": []}],
            "enrichments[0].fields",
        ),
        (
            [
                {
                    "identification": [{"name": "n", "value": "v"}],
                    "fields": [{"name": "f", "value": 1}],
                    "x": 1,
                }
            ],
            "enrichments[0].x",
        ),
    ],
)
def test_enrichment_checked_before_sending(
    client: NexthinkClient, nexthink: FakeNexthink, enrichments: list[Any], field: str
) -> None:
    with pytest.raises(InputValidationError) as info:
        client.enrichment.set_fields(enrichments, domain="ServiceNow")
    assert info.value.field == field
    assert nexthink.requests == []


def test_enrichment_needs_a_domain(client: NexthinkClient, nexthink: FakeNexthink) -> None:
    with pytest.raises(InputValidationError, match="domain"):
        client.enrichment.set_fields([enrichment("A")], domain="")
    assert nexthink.requests == []


# -- campaigns -------------------------------------------------------------------------
def test_campaign_trigger_multi_status(client: NexthinkClient, nexthink: FakeNexthink) -> None:
    sids = [SID, "S-1-5-21-1-2-3-500", "S-1-5-21-1-2-3-1002"]
    result = client.campaigns.trigger(
        "#welcome_survey", sids, expires_in_minutes=60, parameters={"site": "Paris"}
    )
    assert result.status_code == 207
    assert [r.user_sid for r in result.succeeded] == [SID, "S-1-5-21-1-2-3-1002"]
    assert all(r.request_id for r in result.succeeded)
    assert result.failed[0].item.user_sid == "S-1-5-21-1-2-3-500"
    assert result.failed[0].message == "User has no active device"
    assert sent(nexthink) == {
        "campaignNqlId": "#welcome_survey",
        "userSid": sids,
        "expiresInMinutes": 60,
        "parameters": {"site": "Paris"},
    }


@pytest.mark.parametrize(
    ("args", "kwargs", "field"),
    [
        (("welcome", [SID]), {}, "campaign_id"),
        (("#welcome", ["bob"]), {}, "user_sids[0]"),
        (("#welcome", []), {}, "user_sids"),
        (("#welcome", [SID] * 10_001), {}, "user_sids"),
        (("#welcome", SID), {}, "user_sids"),
        (("#welcome", [SID]), {"expires_in_minutes": 0}, "expires_in_minutes"),
        (("#welcome", [SID]), {"parameters": {f"p{i}": "v" for i in range(31)}}, "parameters"),
        (("#welcome", [SID]), {"parameters": {"n": 1}}, "parameters.n"),
    ],
)
def test_campaign_checked_before_sending(
    client: NexthinkClient,
    nexthink: FakeNexthink,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    field: str,
) -> None:
    with pytest.raises(InputValidationError) as info:
        client.campaigns.trigger(*args, **kwargs)
    assert info.value.field == field
    assert nexthink.requests == []


# -- remote actions ----------------------------------------------------------------------
def test_remote_action_execute_list_details(client: NexthinkClient, nexthink: FakeNexthink) -> None:
    answer = client.remote_actions.execute(
        "#restart_service",
        [U1, U2],
        expires_in_minutes=120,
        params={"service": "spooler"},
        trigger_info={
            "externalSource": "ServiceNow",
            "reason": "INC0012345",
            "externalReference": "INC0012345",
        },
    )
    assert answer.expires_in_minutes == 120
    assert sent(nexthink)["triggerInfo"] == {
        "externalSource": "ServiceNow",
        "reason": "INC0012345",
        "externalReference": "INC0012345",
    }
    actions = client.remote_actions.list()
    assert actions[0].targeting is not None
    assert actions[0].targeting.api_enabled is True
    assert client.remote_actions.details("#restart_service").name == "Restart service"
    assert nexthink.requests[-1].url.params["nql-id"] == "#restart_service"
    with pytest.raises(NotFoundError):
        client.remote_actions.details("#unknown_action")


def test_remote_action_not_enabled_for_the_api_is_a_clear_error(client: NexthinkClient) -> None:
    with pytest.raises(RemoteActionNotEnabledError) as info:
        client.remote_actions.execute("#disabled_action", [U1])
    assert info.value.status_code == 403
    assert "not enabled for API triggering" in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"devices": ["collector-1"]}, "devices[0]"),
        ({"devices": [U1] * 10_001}, "devices"),
        ({"devices": []}, "devices"),
        ({"devices": [U1], "expires_in_minutes": 59}, "expires_in_minutes"),
        ({"devices": [U1], "expires_in_minutes": 10_081}, "expires_in_minutes"),
        ({"devices": [U1], "trigger_info": {"reason": "x" * 501}}, "trigger_info[0].reason"),
    ],
)
def test_remote_action_checked_before_sending(
    client: NexthinkClient, nexthink: FakeNexthink, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(InputValidationError) as info:
        client.remote_actions.execute("#restart_service", **kwargs)
    assert info.value.field == field
    assert nexthink.requests == []


# -- workflows -------------------------------------------------------------------------
def test_workflow_v1_and_v2(client: NexthinkClient, nexthink: FakeNexthink) -> None:
    v1 = client.workflows.execute(
        "#password_reset", devices=[U1], users=[SID], params={"mode": "fast"}
    )
    assert len(v1.executions_uuids) == 2
    assert sent(nexthink) == {
        "workflowId": "#password_reset",
        "devices": [U1],
        "users": [SID],
        "params": {"mode": "fast"},
    }
    client.workflows.execute_v2(
        "#password_reset",
        devices=[DeviceRef(name="LAPTOP-42"), {"collectorUid": U2}],
        users=[UserRef(upn="ada@example.com"), {"sid": SID}],
    )
    assert sent(nexthink) == {
        "workflowId": "#password_reset",
        "devices": [{"name": "LAPTOP-42"}, {"collectorUid": U2}],
        "users": [{"upn": "ada@example.com"}, {"sid": SID}],
    }
    assert nexthink.requests[-1].url.path == "/api/v2/workflows/execute"


def test_workflow_list_details_and_trigger_event(
    client: NexthinkClient, nexthink: FakeNexthink
) -> None:
    workflows = client.workflows.list()
    assert workflows[0].trigger_methods is not None
    assert workflows[0].trigger_methods.api_enabled
    assert client.workflows.details("#password_reset").versions[0].version == 3
    execution = str(uuid.uuid4())
    assert client.workflows.trigger_event(
        workflows[0].uuid or "", execution, {"approved": "yes"}
    ).request_uuid
    assert nexthink.requests[-1].url.path.endswith(f"/execution/{execution}/trigger")
    with pytest.raises(InputValidationError, match="execution_uuid"):
        client.workflows.trigger_event(U1, "not-a-uuid")


def test_a_10001_device_workflow_is_refused_before_any_request(
    client: NexthinkClient, nexthink: FakeNexthink
) -> None:
    with pytest.raises(InputValidationError) as info:
        client.workflows.execute("#password_reset", devices=[U1] * 10_001)
    assert info.value.field == "devices"
    assert "at most 10000" in str(info.value)
    with pytest.raises(InputValidationError):
        client.workflows.execute_v2("#password_reset", users=[{"sid": SID}] * 10_001)
    assert nexthink.requests == []
    assert nexthink.token_requests == []


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda c: c.workflows.execute("password_reset", devices=[U1]), "workflow_id"),
        (lambda c: c.workflows.execute("#password_reset"), "devices"),
        (lambda c: c.workflows.execute("#password_reset", users=["S-1-5"]), None),
        (lambda c: c.workflows.execute("#password_reset", users=["bob"]), "users[0]"),
        (
            lambda c: c.workflows.execute_v2("#password_reset", users=[{"upn": "not-an-email"}]),
            "users[0].upn",
        ),
        (lambda c: c.workflows.execute_v2("#password_reset", devices=[{}]), "devices[0]"),
        (
            lambda c: c.workflows.execute_v2("#password_reset", devices=[{"uid": "x"}]),
            "devices[0].uid",
        ),
    ],
)
def test_workflow_ids_checked(
    client: NexthinkClient,
    nexthink: FakeNexthink,
    call: Callable[[NexthinkClient], object],
    field: str | None,
) -> None:
    if field is None:  # a short but valid SID goes through
        call(client)
        return
    with pytest.raises(InputValidationError) as info:
        call(client)
    assert info.value.field == field
    assert nexthink.requests == []


# -- data management ----------------------------------------------------------------------
def test_device_deletion_surfaces_per_device_status(
    client: NexthinkClient, nexthink: FakeNexthink
) -> None:
    bad = "00000000-0000-4000-8000-000000000000"
    result = client.data_management.delete_devices([U1, {"uid": bad, "name": "GHOST"}, U2])
    assert result.status_code == 200
    assert [d.uid for d in result.succeeded] == [U1, U2]
    assert result.failed[0].item.uid == bad
    assert result.failed[0].errors[0].code == "INVALID"
    assert result.is_partial
    assert sent(nexthink)["devices"][1] == {"uid": bad, "name": "GHOST"}
    with pytest.raises(InputValidationError):
        client.data_management.delete_devices(["nope"])


# -- async twin ------------------------------------------------------------------------------
async def test_async_batches(
    routes: respx.Router, nexthink: FakeNexthink, clock: FakeClock
) -> None:
    async with make_async_client(clock) as client:
        result = await client.enrichment.set_fields(
            [enrichment("A"), enrichment("BAD-1")], domain="d"
        )
        assert result.is_partial
        camp = await client.campaigns.trigger("#survey", [SID])
        assert camp.ok
        assert (await client.remote_actions.execute("#restart_service", [U1])).request_id
        assert (await client.remote_actions.list())[0].id == "#restart_service"
        assert (await client.remote_actions.details("#restart_service")).uuid
        assert (await client.workflows.execute("#w_1", users=[SID])).request_uuid
        assert (await client.workflows.execute_v2("#w_1", devices=[{"name": "X"}])).request_uuid
        assert (await client.workflows.list())[0].name == "Password reset"
        assert (await client.workflows.details("#password_reset")).id == "#password_reset"
        assert (await client.workflows.trigger_event(U1, U2)).request_uuid
        assert (await client.data_management.delete_devices([U1])).ok
        with pytest.raises(RemoteActionNotEnabledError):
            await client.remote_actions.execute("#disabled_action", [U1])
        with pytest.raises(InputValidationError):
            await client.workflows.execute("#w_1", devices=[U1] * 10_001)
