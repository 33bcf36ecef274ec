"""Every setting is reachable three ways (flag, GATEWAY_* variable, default),
documented, and used."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from gateway_server import Settings, _cli, create_app
from tests.gateway_support import _dev, customer_token, running_gateway, settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "gateway.md"


def parse(*argv: str) -> Settings:
    return _cli._settings(_cli._parser().parse_args(["serve", *argv]))


def test_a_flag_wins_over_the_environment_which_wins_over_the_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("GATEWAY_MAX_CLAIMS", raising=False)
    data = str(tmp_path)
    assert parse("--data-dir", data).max_claims == 5
    monkeypatch.setenv("GATEWAY_MAX_CLAIMS", "7")
    assert parse("--data-dir", data).max_claims == 7
    assert parse("--data-dir", data, "--max-claims", "9").max_claims == 9


def test_serve_help_lists_every_setting(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _cli.main(["serve", "--help"])
    shown = capsys.readouterr().out
    for name in Settings.model_fields:
        assert "--" + name.replace("_", "-") in shown
        assert f"GATEWAY_{name.upper()}" in shown


@pytest.mark.parametrize("name", list(Settings.model_fields))
def test_every_setting_has_a_flag_and_a_variable(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    flag = "--" + name.replace("_", "-")
    value = {
        "host": "0.0.0.0",
        "port": "9090",
        "log_level": "debug",
        "data_dir": str(tmp_path / "elsewhere"),
        "database_url": "sqlite+aiosqlite:///x.db",
        "jwt_secret": "s" * 40,
        "jwt_jwks": "keys.json",
        "jwt_audience": "other",
        "jwt_customer_claim": "org",
        "environment": "staging",
        "default_visibility_ms": "60000",
        "drain_seconds": "5.5",
        "sqlite_synchronous": "FULL",
        "redis_url": "redis://127.0.0.1:6380/1",
        "emulate": "nexthink,exasperation",
        "emulator_data": "seed.json",
        "ws_implementation": "websockets",
        "ws_ping_interval": "2.5",
        "ws_ping_timeout": "3.5",
    }.get(name, "42")
    if Settings.model_fields[name].annotation is bool:  # a switch: --name / --no-name
        assert not getattr(Settings(data_dir=tmp_path), name)
        assert getattr(parse("--data-dir", str(tmp_path), flag), name) is True
        monkeypatch.setenv(f"GATEWAY_{name.upper()}", "true")
        assert getattr(Settings(data_dir=tmp_path), name) is True
        assert getattr(parse("--data-dir", str(tmp_path), "--no-" + flag[2:]), name) is False
        return
    expected = type(getattr(Settings(data_dir=tmp_path), name) or "")(value)
    got = getattr(parse("--data-dir", str(tmp_path), flag, value), name)
    if name == "data_dir":  # the flag itself
        assert str(got) == value
        return
    assert got == expected
    monkeypatch.setenv(f"GATEWAY_{name.upper()}", value)
    assert getattr(Settings(data_dir=tmp_path), name) == expected


def test_a_bad_value_names_the_flag(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="--max-claims"):
        parse("--data-dir", str(tmp_path), "--max-claims", "zero")
    with pytest.raises(SystemExit, match="--default-visibility-ms"):
        parse("--data-dir", str(tmp_path), "--default-visibility-ms", "10")


def test_the_guide_lists_every_setting_with_its_default() -> None:
    rows = {
        m.group(1): m.group(3)
        for m in re.finditer(
            r"^\| `--([a-z-]+)` \| `GATEWAY_([A-Z_]+)` \| ([^|]+) \|", DOCS.read_text(), re.M
        )
    }
    for name, field in Settings.model_fields.items():
        flag = name.replace("_", "-")
        assert flag in rows, f"docs/gateway.md has no row for --{flag}"
        default = field.get_default(call_default_factory=True)
        if default is not None and name != "jwt_secret":
            assert rows[flag].strip() == f"`{default}`", flag
    assert len(rows) == len(Settings.model_fields)


async def test_the_default_visibility_is_the_configured_one(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, default_visibility_ms=45_000) as gw:
        device = await gw.device("dev-001")
        session = await gw.session("dev-001")
        await gw.enqueue(session, "job")
        r = await gw.call("POST", "/api/v1/device/commands/claim", headers=_dev(device))
        (claimed,) = r.json()["commands"]
        until = datetime.fromisoformat(claimed["visibleUntil"]).timestamp()
        assert until == pytest.approx(gw.clock() + 45, abs=0.01)


async def test_provisioning_states_the_configured_code_lifetime(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, activation_ttl=2 * 3600) as gw:
        r = await gw.call(
            "POST",
            "/api/v1/customer/devices/provision",
            json_body={"deviceId": "dev-001"},
            headers=gw.customer(),
        )
        assert "expires in 2 hours" in r.json()["instructions"]


def test_the_socket_rate_limit_names_the_configured_rate(tmp_path: Path) -> None:
    app = create_app(settings(tmp_path, ws_messages_per_second=3))
    with TestClient(app) as client:
        token = customer_token(app)
        with client.websocket_connect(f"/ws/customer?token={token}") as ws:
            answers = []
            for _ in range(5):
                ws.send_text("{}")
                answers.append(ws.receive_json())
    limited = [a for a in answers if a["data"]["code"] == "RATE_LIMITED"]
    assert limited
    assert limited[0]["data"]["message"] == "over 3 messages a second"
