"""The command queue, exactly as the addendum states it, on SQLite and on
PostgreSQL (the machine's server; skipped where there is none)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway_server.device_gateway import _sql as sql
from tests.gateway_support import TIMESTAMP, Gateway, _dev, postgres_database, running_gateway


@pytest.fixture(params=["sqlite", "postgresql"])
async def gw(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Gateway]:
    if request.param == "sqlite":
        async with running_gateway(tmp_path) as gateway:
            yield gateway
        return
    async with postgres_database() as url, running_gateway(tmp_path, database_url=url) as gateway:
        yield gateway


async def test_priority_then_fifo(gw: Gateway) -> None:
    device = await gw.device("dev-001")
    session = await gw.session("dev-001")
    for name, priority in [("a", 0), ("b", 5), ("c", 5), ("d", 1), ("e", 0)]:
        await gw.enqueue(session, name, priority)
    claimed = await gw.claim(device, limit=10)
    assert [c["type"] for c in claimed] == ["b", "c", "d", "a", "e"]
    assert len({c["claimToken"] for c in claimed}) == 5


async def test_claim_respects_limit_and_hides_claimed_commands(gw: Gateway) -> None:
    device = await gw.device("dev-001")
    session = await gw.session("dev-001")
    for i in range(4):
        await gw.enqueue(session, f"c{i}")
    first = await gw.claim(device, limit=3)
    assert len(first) == 3
    second = await gw.claim(device, limit=3)
    assert [c["type"] for c in second] == ["c3"]
    assert await gw.claim(device, limit=3) == []


async def test_expired_claim_is_claimable_again_and_its_token_dead(gw: Gateway) -> None:
    device = await gw.device("dev-001")
    session = await gw.session("dev-001")
    command_id = await gw.enqueue(session, "slow")
    (first,) = await gw.claim(device, visibility=5_000)
    gw.clock.advance(6)
    (second,) = await gw.claim(device, visibility=5_000)
    assert second["id"] == command_id
    assert second["claimToken"] != first["claimToken"]
    extend = await gw.call(
        "POST", f"/api/v1/device/commands/{command_id}/extend",
        json_body={"claimToken": first["claimToken"], "extensionMs": 1000}, headers=_dev(device),
    )  # fmt: skip
    assert extend.status_code == 403
    late = await gw.result(device, command_id, first["claimToken"])
    assert late.status_code == 403
    assert (await gw.result(device, command_id, second["claimToken"])).status_code == 200


async def test_extend_needs_the_current_token_and_a_live_claim(gw: Gateway) -> None:
    device = await gw.device("dev-001")
    session = await gw.session("dev-001")
    command_id = await gw.enqueue(session, "long")
    (claimed,) = await gw.claim(device, visibility=10_000)
    path = f"/api/v1/device/commands/{command_id}/extend"
    ok = await gw.call(
        "POST",
        path,
        json_body={"claimToken": claimed["claimToken"], "extensionMs": 300_000},
        headers=_dev(device),
    )
    assert ok.status_code == 200
    gw.clock.advance(200)  # still inside the extended claim
    assert (await gw.claim(device)) == []
    wrong = await gw.call(
        "POST",
        path,
        json_body={"claimToken": "not-the-token", "extensionMs": 1000},
        headers=_dev(device),
    )
    assert wrong.status_code == 403
    too_long = await gw.call(
        "POST",
        path,
        json_body={"claimToken": claimed["claimToken"], "extensionMs": 300_001},
        headers=_dev(device),
    )
    assert too_long.status_code == 400
    gw.clock.advance(101)
    expired = await gw.call(
        "POST",
        path,
        json_body={"claimToken": claimed["claimToken"], "extensionMs": 1000},
        headers=_dev(device),
    )
    assert expired.status_code == 403
    assert expired.json()["error"]["code"] == "CLAIM_EXPIRED"


async def test_result_is_idempotent_under_the_same_token_and_409_under_another(gw: Gateway) -> None:
    device = await gw.device("dev-001")
    session = await gw.session("dev-001")
    command_id = await gw.enqueue(session, "x")
    await gw.enqueue(session, "y")
    (a,) = await gw.claim(device, visibility=5_000)
    gw.clock.advance(6)
    (b,) = await gw.claim(device, visibility=5_000)
    assert b["id"] == command_id
    first = await gw.result(device, command_id, b["claimToken"])
    again = await gw.result(device, command_id, b["claimToken"])
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    other = await gw.result(device, command_id, a["claimToken"])
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "ALREADY_COMPLETED"
    history = (
        await gw.call("GET", f"/api/v1/customer/sessions/{session}", headers=gw.customer())
    ).json()
    completed = next(c for c in history["session"]["commands"] if c["id"] == command_id)
    assert completed["status"] == "completed"
    assert completed["result"]["status"] == "success"


async def test_result_with_another_devices_command_is_not_found(gw: Gateway) -> None:
    device = await gw.device("dev-001")
    other = await gw.device("dev-002")
    session = await gw.session("dev-001")
    command_id = await gw.enqueue(session, "x")
    (claimed,) = await gw.claim(device)
    assert (await gw.result(other, command_id, claimed["claimToken"])).status_code == 404
    assert (await gw.result(device, "no-such-command", claimed["claimToken"])).status_code == 404


async def test_a_command_claimed_too_often_goes_to_the_dead_letter_state(gw: Gateway) -> None:
    device = await gw.device("dev-001")
    session = await gw.session("dev-001")
    command_id = await gw.enqueue(session, "poison")
    for _ in range(5):  # max_claims = 5
        (c,) = await gw.claim(device, visibility=1_000)
        assert c["id"] == command_id
        gw.clock.advance(2)
    assert await gw.claim(device) == []
    history = (
        await gw.call("GET", f"/api/v1/customer/sessions/{session}", headers=gw.customer())
    ).json()
    assert history["session"]["commands"][0]["status"] == "dead_letter"
    assert history["session"]["commands"][0]["claimCount"] == 5
    status = (
        await gw.call("GET", "/api/v1/customer/devices/dev-001/status", headers=gw.customer())
    ).json()
    assert status["device"]["deadLetterCommands"] == 1


async def test_remediation_waits_for_approval_and_a_rejected_command_never_runs(
    gw: Gateway,
) -> None:
    device = await gw.device("dev-001")
    session = await gw.session("dev-001", kind="remediation")
    fix = await gw.enqueue(session, "restart_service")
    risky = await gw.enqueue(session, "wipe_disk")
    assert await gw.claim(device, limit=10) == []
    approve = f"/api/v1/customer/sessions/{session}/approve"
    r = await gw.call(
        "POST", approve, json_body={"commandId": fix, "approved": True}, headers=gw.customer()
    )
    assert r.json() == {"success": True, "command": {"id": fix, "status": "approved"}}
    r = await gw.call(
        "POST",
        approve,
        json_body={"commandId": risky, "approved": False, "reason": "too risky"},
        headers=gw.customer(),
    )
    assert r.json()["command"]["status"] == "rejected"
    again = await gw.call(
        "POST", approve, json_body={"commandId": fix, "approved": False}, headers=gw.customer()
    )
    assert again.status_code == 409
    claimed = await gw.claim(device, limit=10)
    assert [c["id"] for c in claimed] == [fix]
    gw.clock.advance(
        120
    )  # the approved one's claim expired: claimable again; the rejected one never
    assert [c["id"] for c in await gw.claim(device, limit=10)] == [fix]


async def test_heartbeat_reports_pending_commands(gw: Gateway) -> None:
    device = await gw.device("dev-001")
    session = await gw.session("dev-001")
    for i in range(3):
        await gw.enqueue(session, f"c{i}")
    await gw.claim(device)
    r = await gw.call(
        "POST", "/api/v1/device/heartbeat",
        json_body={"timestamp": "2024-06-01T10:00:00Z", "status": "busy", "metrics": {"cpu": 0.5, "memory": 0.25, "uptime": 3600}},
        headers=_dev(device),
    )  # fmt: skip
    assert r.json() == {"success": True, "nextHeartbeat": 30_000, "pendingCommands": 2}
    status = (
        await gw.call("GET", "/api/v1/customer/devices/dev-001/status", headers=gw.customer())
    ).json()["device"]
    assert status["status"] == "busy"
    assert status["metrics"] == {"cpu": 0.5, "memory": 0.25, "uptime": 3600.0}
    assert status["activeSession"] == session


async def test_stored_json_comes_back_exactly(gw: Gateway) -> None:
    """Parameters and diagnostics are kept as JSON text: any text, big integers,
    nesting and nulls come back as they were sent."""
    device = await gw.device("dev-001")
    session = await gw.session("dev-001")
    parameters = {"path": "C:\\Users\\Zoë\u2028", "big": 10**20, "list": [1.5, None, True, {}]}
    r = await gw.call(
        "POST", f"/api/v1/customer/sessions/{session}/commands",
        json_body={"type": "copy", "parameters": parameters}, headers=gw.customer(),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    (claimed,) = await gw.claim(device)
    assert claimed["parameters"] == parameters
    diagnostics = {"note": "überhitzt ✓", "codes": [-(10**19), 0]}
    r = await gw.call(
        "POST", "/api/v1/device/heartbeat",
        json_body={"timestamp": TIMESTAMP, "status": "error", "diagnostics": diagnostics},
        headers=_dev(device),
    )  # fmt: skip
    assert r.status_code == 200, r.text
    await gw.api.telemetry.flush()  # written to the database, then read back
    status = (
        await gw.call("GET", "/api/v1/customer/devices/dev-001/status", headers=gw.customer())
    ).json()["device"]
    assert status["diagnostics"] == diagnostics


async def test_what_device_sockets_are_told(gw: Gateway) -> None:
    """On connecting, the commands claimable then (claim order); afterwards, each
    command whose claim ran out in the window looked at."""
    device = await gw.device("dev-001")
    session = await gw.session("dev-001")
    low = await gw.enqueue(session, "low")
    high = await gw.enqueue(session, "high", 7)
    store = gw.api.queue
    assert [n["id"] for n in await store.claimable("dev-001")] == [high, low]
    claimed_at = gw.clock()
    (taken,) = await gw.claim(device, visibility=10_000)
    assert taken["id"] == high
    assert [n["id"] for n in await store.claimable("dev-001")] == [low]
    gw.clock.advance(5)
    assert await store.claims_run_out(["dev-001"], claimed_at, gw.clock()) == []  # still held
    gw.clock.advance(6)
    run_out = await store.claims_run_out(["dev-001"], claimed_at + 5, gw.clock())
    assert run_out == [("dev-001", {"id": high, "type": "high", "priority": 7})]
    assert await store.claims_run_out(["dev-002"], claimed_at, gw.clock()) == []  # not its device
    # a claim completed in time never runs out
    (again,) = await gw.claim(device, visibility=10_000)
    assert (await gw.result(device, again["id"], again["claimToken"])).status_code == 200
    gw.clock.advance(20)
    assert await store.claims_run_out(["dev-001"], claimed_at + 11, gw.clock()) == []


async def test_the_run_out_scan_reads_the_window_by_its_index(tmp_path: Path) -> None:
    """The once-a-second scan asks for the window's run-outs by ``visible_until``,
    not for every device with a socket open (thousands of ids once a second)."""
    async with running_gateway(tmp_path) as gateway:
        database = gateway.api.services.database
        window = sql.RUN_OUT.params(p_since=0.0, p_until=1.0, p_max_claims=10)
        statement = window.compile(
            database.engine.sync_engine, compile_kwargs={"literal_binds": True}
        )
        async with database.engine.connect() as conn:
            plan = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}")
            details = " ".join(str(row[-1]) for row in plan.all())
    assert "ix_commands_visible_until" in details, details
    assert "device_id" not in str(statement).split("WHERE", 1)[1]


async def test_result_names_the_next_command(gw: Gateway) -> None:
    device = await gw.device("dev-001")
    session = await gw.session("dev-001")
    first = await gw.enqueue(session, "a", 9)
    second = await gw.enqueue(session, "b", 1)
    (c,) = await gw.claim(device)
    assert c["id"] == first
    assert (await gw.result(device, first, c["claimToken"])).json() == {
        "success": True,
        "nextCommand": {"id": second},
    }
    (c,) = await gw.claim(device)
    assert (await gw.result(device, second, c["claimToken"])).json() == {"success": True}


async def test_a_transaction_that_fails_leaves_nothing_behind(gw: Gateway) -> None:
    # The claim statements are the ones SQLite runs on the driver directly:
    # their writes must roll back with the rest of a failed transaction.
    from gateway_server.device_gateway._sql import TAKE_NEXT

    device = await gw.device("dev-001")
    session = await gw.session("dev-001")
    command_id = await gw.enqueue(session, "job")
    store = gw.api.services.database
    now = gw.clock()

    async def take_then_fail() -> None:
        async with store.write() as conn:
            taken = await conn.execute(
                TAKE_NEXT,
                {"p_device_id": "dev-001", "p_now": now, "p_max_claims": 5,
                 "p_token_hash": "x" * 64, "p_until": now + 60},
            )  # fmt: skip
            assert taken.first().id == command_id
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await take_then_fail()
    (claimed,) = await gw.claim(device)
    assert claimed["id"] == command_id
    status = (
        await gw.call("GET", f"/api/v1/customer/sessions/{session}", headers=gw.customer())
    ).json()["session"]
    assert status["commands"][0]["claimCount"] == 1
