"""Bad input of any kind gets a documented 4xx; the operational endpoints tell the truth."""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from pathlib import Path

import httpx
import pydantic
import pytest
import sqlalchemy as sa
import yaml

import gateway_server
from gateway_server import Settings, _schema, create_app, storage
from tests.gateway_support import Gateway, _dev, running_gateway, settings

CONTRACT = Path(__file__).resolve().parents[2] / "contracts" / "gateway.openapi.yaml"


@pytest.mark.parametrize(
    ("path", "content", "code"),
    [
        ("/api/v1/device/commands/claim", b"{not json", "INVALID_JSON"),
        ("/api/v1/device/commands/claim", b"[1, 2]", "INVALID_JSON"),
        ("/api/v1/device/commands/claim", b'{"limit": "5"}', "VALIDATION_ERROR"),
        ("/api/v1/device/commands/claim", b'{"limit": 11}', "VALIDATION_ERROR"),
        ("/api/v1/device/commands/claim", b'{"limit": 0}', "VALIDATION_ERROR"),
        ("/api/v1/device/commands/claim", b'{"limit": 1.5}', "VALIDATION_ERROR"),
        ("/api/v1/device/commands/claim", b'{"limit": true}', "VALIDATION_ERROR"),
        ("/api/v1/device/commands/claim", b'{"limit": 1, "extra": 1}', "VALIDATION_ERROR"),
        (
            "/api/v1/device/commands/claim",
            b'{"visibilityTimeout": 99999999999}',
            "VALIDATION_ERROR",
        ),
        (
            "/api/v1/device/heartbeat",
            b'{"timestamp": "yesterday", "status": "online"}',
            "VALIDATION_ERROR",
        ),
        (
            "/api/v1/device/heartbeat",
            b'{"timestamp": "2024-06-01T10:00:00Z", "status": "asleep"}',
            "VALIDATION_ERROR",
        ),
        (
            "/api/v1/device/heartbeat",
            b'{"timestamp": "2024-06-01T10:00:00Z", "status": "online", "metrics": {"cpu": "hot", "memory": 1, "uptime": 1}}',
            "VALIDATION_ERROR",
        ),
        ("/api/v1/device/heartbeat", b"", "INVALID_JSON"),
        ("/api/v1/device/heartbeat", b" \n", "INVALID_JSON"),
        # The claim's body is optional, but a body that is there must be JSON.
        ("/api/v1/device/commands/claim", b" ", "INVALID_JSON"),
        ("/api/v1/device/heartbeat", "\udcff".encode("utf-8", "surrogatepass"), "INVALID_JSON"),
    ],
)
async def test_malformed_device_input_is_a_documented_400(
    gw: Gateway, path: str, content: bytes, code: str
) -> None:
    device = await gw.device("dev-001")
    r = await gw.call(
        "POST", path, content=content, headers={**_dev(device), "Content-Type": "application/json"}
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == code


async def test_a_claim_without_a_body_takes_the_defaults(gw: Gateway) -> None:
    device = await gw.device("dev-001")
    session = await gw.session("dev-001")
    first = await gw.enqueue(session, "a")
    await gw.enqueue(session, "b")
    r = await gw.call("POST", "/api/v1/device/commands/claim", headers=_dev(device))
    assert r.status_code == 200, r.text
    (claimed,) = r.json()["commands"]  # limit 1
    assert claimed["id"] == first
    # visibilityTimeout 300,000 ms: claimed until five minutes from now
    until = datetime.fromisoformat(claimed["visibleUntil"]).timestamp()
    assert until == pytest.approx(gw.clock() + 300, abs=0.01)


BEAT = '{{"timestamp": "2024-06-01T10:00:00Z", "status": "online", {}}}'


async def test_an_optional_field_sent_as_null_is_refused_unless_null_is_documented(
    gw: Gateway,
) -> None:
    device = await gw.device("dev-001")
    for path, content, field in [
        ("/api/v1/device/commands/claim", '{"limit": null}', "limit"),
        ("/api/v1/device/heartbeat", BEAT.format('"metrics": null'), "metrics"),
        ("/api/v1/device/heartbeat", BEAT.format('"metrics": {"cpu": null}'), "cpu"),
    ]:
        r = await gw.call(
            "POST",
            path,
            content=content.encode(),
            headers={**_dev(device), "Content-Type": "application/json"},
        )
        assert r.status_code == 400, r.text
        error = r.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert field in error["message"], error
    accepted = await gw.call(
        "POST",
        "/api/v1/device/heartbeat",
        content=BEAT.format('"diagnostics": null').encode(),
        headers={**_dev(device), "Content-Type": "application/json"},
    )
    assert accepted.status_code == 200, accepted.text


@pytest.mark.parametrize(
    "extra",
    [
        '"metrics": {"cpu": Infinity, "memory": 1, "uptime": 1}',
        '"metrics": {"cpu": 1e400, "memory": 1, "uptime": 1}',
        '"metrics": {"cpu": NaN, "memory": 1, "uptime": 1}',
        '"diagnostics": {"temperature": 1e400}',
        '"diagnostics": [1, {"deep": [-1e999]}]',
    ],
)
async def test_numbers_json_cannot_carry_are_refused_not_stored(gw: Gateway, extra: str) -> None:
    # A non-finite number would be stored, then break every later answer that
    # shows it (JSON has no Infinity): refused at the door instead.
    device = await gw.device("dev-001")
    r = await gw.call(
        "POST",
        "/api/v1/device/heartbeat",
        content=BEAT.format(extra).encode(),
        headers={**_dev(device), "Content-Type": "application/json"},
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] in ("VALIDATION_ERROR", "INVALID_JSON")
    status = await gw.call("GET", "/api/v1/customer/devices/dev-001/status", headers=gw.customer())
    assert status.status_code == 200
    assert status.json()["device"]["metrics"] is None


async def test_non_finite_command_parameters_and_durations_are_refused(gw: Gateway) -> None:
    device = await gw.device("dev-001")
    session = await gw.session("dev-001")
    r = await gw.call(
        "POST",
        f"/api/v1/customer/sessions/{session}/commands",
        content=b'{"type": "job", "parameters": {"n": 1e400}}',
        headers={**gw.customer(), "Content-Type": "application/json"},
    )
    assert r.status_code == 400, r.text
    command_id = await gw.enqueue(session, "job")
    (claimed,) = await gw.claim(device)
    token = json.dumps(claimed["claimToken"])
    body = (
        f'{{"claimToken": {token}, "status": "success", '
        '"executedAt": "2024-06-01T10:00:00Z", "duration": 1e400}'
    )
    r = await gw.call(
        "POST",
        f"/api/v1/device/commands/{command_id}/result",
        content=body.encode(),
        headers={**_dev(device), "Content-Type": "application/json"},
    )
    assert r.status_code == 400, r.text
    got = await gw.call("GET", f"/api/v1/customer/sessions/{session}", headers=gw.customer())
    assert got.status_code == 200
    assert got.json()["session"]["commands"][0]["status"] == "claimed"


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=201",
        "limit=abc",
        "offset=-1",
        "status=sleeping",
        "limit=99999999999999999999",
    ],
)
async def test_out_of_range_query_parameters(gw: Gateway, query: str) -> None:
    r = await gw.call("GET", f"/api/v1/customer/devices?{query}", headers=gw.customer())
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_oversize_body_is_413(gw: Gateway) -> None:
    device = await gw.device("dev-001")
    big = json.dumps(
        {"timestamp": "2024-06-01T10:00:00Z", "status": "online", "diagnostics": "x" * 2_000_000}
    ).encode()
    r = await gw.call(
        "POST",
        "/api/v1/device/heartbeat",
        content=big,
        headers={**_dev(device), "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_unknown_routes_and_methods_use_the_error_format(gw: Gateway) -> None:
    missing = await gw.http.get("/api/v1/nothing")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"
    wrong = await gw.http.get("/api/v1/device/commands/claim")
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


async def test_the_device_loop_routes_answer_as_the_router_would(gw: Gateway) -> None:
    """Claim, result, heartbeat and extend skip the router on the way in
    (DeviceLane); what a caller sees must be the same as on any route."""
    device = await gw.device("dev-001")
    slash = await gw.http.post("/api/v1/device/commands/claim/", json={}, headers=device)
    assert slash.status_code in (307, 404)  # the router's answer, not the endpoint's
    wrong = await gw.http.put("/api/v1/device/commands/abc/result", json={}, headers=device)
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    refused = await gw.call("POST", "/api/v1/device/commands/claim", json_body={"limit": 0})
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "UNAUTHENTICATED"
    assert re.fullmatch(r"[0-9a-f]{32}", refused.headers["X-Request-ID"])
    answered = await gw.call("POST", "/api/v1/device/commands/claim", json_body={}, headers=device)
    assert answered.json() == {"commands": []}
    assert answered.headers["X-RateLimit-Limit"] == "100"


async def test_an_unexpected_failure_is_a_500_with_a_request_id(
    gw: Gateway, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    device = await gw.device("dev-001")

    async def broken(*_: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(gw.api.queue, "claim", broken)
    caplog.set_level(logging.INFO, "gateway_server.access")
    transport = httpx.ASGITransport(app=gw.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
        crash = await http.post(
            "/api/v1/device/commands/claim", json={}, headers={"X-Request-ID": "trace-7", **device}
        )
    assert crash.status_code == 500
    assert crash.json() == {"error": {"code": "INTERNAL_ERROR", "message": "internal error"}}
    assert crash.headers["X-Request-ID"] == "trace-7"
    logged = [json.loads(r.getMessage()) for r in caplog.records if r.name.endswith(".access")]
    assert {"request_id": "trace-7", "status": 500}.items() <= logged[-1].items()


async def test_bad_path_ids_are_not_found(gw: Gateway) -> None:
    device = await gw.device("dev-001")
    r = await gw.call(
        "POST",
        "/api/v1/device/commands/%00%00/result",
        json_body={
            "claimToken": "t",
            "status": "success",
            "executedAt": "2024-06-01T10:00:00Z",
            "duration": 1,
        },
        headers=_dev(device),
    )
    assert r.status_code == 404
    r = await gw.call("GET", "/api/v1/customer/devices/a/status", headers=gw.customer())
    assert r.status_code == 404


async def test_request_id_is_echoed_or_made(gw: Gateway) -> None:
    echoed = await gw.http.get("/healthz", headers={"X-Request-ID": "trace-42"})
    assert echoed.headers["X-Request-ID"] == "trace-42"
    made = [(await gw.http.get("/version")).headers["X-Request-ID"] for _ in range(3)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", m) for m in made)
    assert len(set(made)) == 3
    error = await gw.http.get("/api/v1/customer/devices")
    assert error.status_code == 401
    assert error.headers["X-Request-ID"] not in made


async def test_health_version_readiness(gw: Gateway) -> None:
    assert (await gw.call("GET", "/healthz")).json()["status"] == "ok"
    assert (await gw.call("GET", "/version")).json() == {"version": "0.1.0"}
    ready = await gw.call("GET", "/readyz")
    assert ready.json() == {"ready": True, "checks": {"database": True}}


def test_without_a_redis_url_nothing_uses_or_advertises_redis(tmp_path: Path) -> None:
    # Readiness names the database alone (above); the broker and limits are this process's.
    app = gateway_server.create_app(Settings(data_dir=tmp_path))
    assert app.services.redis is None
    assert app.services.broker_name == "in-process"
    with pytest.raises(pydantic.ValidationError, match="redis_url"):
        Settings(redis_url="http://127.0.0.1:6379/0")  # not a Redis URL
    with pytest.raises(SystemExit, match="--redis-url"):
        gateway_server.main(["serve", "--redis-url", "localhost:6379"])


async def test_readiness_fails_when_the_database_does(gw: Gateway, tmp_path: Path) -> None:
    # A database file that is not one (a corrupt disk, say). Not a path that
    # cannot be opened at all: aiosqlite leaves a failed connection's thread
    # to call back into the event loop after the test has closed it.
    garbage = tmp_path / "not-a-database.db"
    garbage.write_bytes(b"this is not an SQLite database\n" * 200)
    database = gw.api.services.database
    original = database.engine
    broken = storage.connect(f"sqlite+aiosqlite:///{garbage}")
    database.engine = broken
    try:
        r = await gw.call("GET", "/readyz")
    finally:
        database.engine = original  # the app's shutdown disposes its own engine
        await broken.dispose()
    assert r.status_code == 503
    assert r.json()["checks"]["database"] is False
    assert "not a database" in r.json()["errors"][0]


async def test_openapi_json_is_the_contract_and_docs_work_offline(gw: Gateway) -> None:
    served = (await gw.http.get("/openapi.json")).json()
    assert served == yaml.safe_load(CONTRACT.read_text())
    page = await gw.http.get("/docs")
    assert page.status_code == 200
    assert "/docs/static/swagger-ui-bundle.js" in page.text
    asset = await gw.http.get("/docs/static/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert len(asset.content) > 100_000
    assert (await gw.http.get("/docs/static/swagger-ui.css")).status_code == 200


async def test_system_info(gw: Gateway) -> None:
    info = (await gw.call("GET", "/api/v1/customer/system/info", headers=gw.customer())).json()
    assert info["version"] == "0.1.0"
    assert info["services"]["database"] == "sqlite"
    assert info["services"]["broker"] == "in-process"
    assert info["services"]["websocketsTooSlow"] == 0
    assert info["environment"] == "development"


async def test_access_log_is_structured_and_carries_no_secrets(
    gw: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="gateway_server.access"):
        device = await gw.device("dev-001")
        await gw.http.get("/healthz?deviceSecret=s3cr3t&token=abc&page=2")
    lines = [
        json.loads(r.getMessage()) for r in caplog.records if r.name == "gateway_server.access"
    ]
    assert {"request_id", "method", "path", "status", "duration_ms"} <= set(lines[0])
    assert lines[-1]["path"] == "/healthz?deviceSecret=[REDACTED]&token=[REDACTED]&page=2"
    text = caplog.text
    assert device["secret"] not in text
    assert device["X-Device-Token"] not in text
    assert "s3cr3t" not in text


# -- the versioned schema ------------------------------------------------------------
async def test_schema_is_versioned_and_reopening_keeps_data(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gw:
        await gw.device("dev-001")
        async with gw.api.services.database.engine.connect() as conn:
            assert await storage.current_version(conn) == _schema.SCHEMA_VERSION
    async with running_gateway(tmp_path) as gw:
        listing = await gw.call("GET", "/api/v1/customer/devices", headers=gw.customer())
        assert listing.json()["total"] == 1


async def test_an_upgrade_step_keeps_existing_rows(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gw:
        await gw.device("dev-001")
        engine = gw.api.services.database.engine

        async def v2(conn: sa.ext.asyncio.AsyncConnection) -> None:  # type: ignore[name-defined]
            await conn.execute(sa.text("ALTER TABLE devices ADD COLUMN firmware VARCHAR(40)"))

        newer = _schema.SCHEMA_VERSION + 1
        assert await storage.migrate(engine, [*_schema.MIGRATIONS, (newer, v2)]) == newer
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.text("SELECT id, firmware FROM devices"))).all()
        assert [tuple(r) for r in rows] == [("dev-001", None)]
        with pytest.raises(storage.SchemaTooNewError):
            await _schema.upgrade(engine)  # an older server refuses a newer database


async def test_an_app_runs_once_at_a_time(tmp_path: Path) -> None:
    # Its services (the SQLite connection, caches, background tasks) belong to
    # one event loop: a second run beside the first is refused, not shared.
    app = create_app(settings(tmp_path))
    async with app.router.lifespan_context(app):
        with pytest.raises(RuntimeError, match="already running"):
            async with app.router.lifespan_context(app):
                pass
    async with app.router.lifespan_context(app):  # and run after run is fine
        assert app.services.database.backend == "sqlite"
