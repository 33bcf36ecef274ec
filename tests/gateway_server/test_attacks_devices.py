"""Attacks on device authentication: locking a device out by failing in its
name, secrets that almost match.

Each test names the finding of issue 16 it closes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.gateway_support import Gateway, running_gateway


@contextlib.asynccontextmanager
async def client_from(gw: Gateway, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client to the same app from another address."""
    transport = httpx.ASGITransport(app=gw.app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as http:
        yield http


async def _auth(http: httpx.AsyncClient, device_id: str, secret: str) -> int:
    r = await http.post("/api/v1/device/auth", json={"deviceId": device_id, "deviceSecret": secret})
    return r.status_code


async def test_f3_failures_in_a_devices_name_never_lock_the_device_out(gw: Gateway) -> None:
    """Finding 3: ten bogus /device/auth calls made the real device's correct
    secret a 429 for the rest of the minute. Failures are what is counted,
    per device id and address; a correct secret is never refused."""
    device = await gw.device("dev-001")
    async with client_from(gw, "203.0.113.66") as attacker:
        tries = [await _auth(attacker, "dev-001", f"guess-{i}") for i in range(15)]
        assert tries == [401] * 10 + [429] * 5
        assert await _auth(gw.http, "dev-001", device["secret"]) == 200  # its own address
        assert await _auth(attacker, "dev-001", device["secret"]) == 200  # even the attacker's
        assert await _auth(gw.http, "dev-001", "typo") == 401  # its own failures are its own


async def test_f3_failures_in_a_registering_devices_name_never_lock_it_out(gw: Gateway) -> None:
    """Finding 3, the activation window: bogus codes for a device id do not
    keep the real code from registering it."""
    code = await gw.provision("dev-002")
    body = {"deviceId": "dev-002", "activationCode": "AAAA-BBBB-CCCC-DDDD"}
    async with client_from(gw, "203.0.113.66") as attacker:
        tries = [
            (await attacker.post("/api/v1/device/register", json=body)).status_code
            for _ in range(12)
        ]
    assert tries == [401] * 10 + [429] * 2
    r = await gw.call("POST", "/api/v1/device/register", json_body={**body, "activationCode": code})
    assert r.status_code == 200


async def test_f3_one_address_failing_for_many_devices_is_slowed_too(tmp_path: Path) -> None:
    """Spraying device ids from one address: 30 x the per-device budget, then 429."""
    async with running_gateway(tmp_path, auth_attempts_per_minute=2) as gw:
        device = await gw.device("dev-001")
        async with client_from(gw, "203.0.113.66") as attacker:
            tries = [await _auth(attacker, f"dev-{i:03d}x", "guess") for i in range(62)]
            assert tries == [401] * 60 + [429] * 2
            assert await _auth(attacker, "dev-001", device["secret"]) == 200


@pytest.mark.parametrize("padding", [" {}", "{} ", "{}\n", "\t{}"])
async def test_f12_secrets_are_compared_exactly(gw: Gateway, padding: str) -> None:
    """Finding 12: secrets were compared after ``.strip()``."""
    device = await gw.device("dev-001")
    assert await _auth(gw.http, "dev-001", padding.format(device["secret"])) == 401
    code = await gw.provision("dev-002")
    r = await gw.call(
        "POST",
        "/api/v1/device/register",
        json_body={"deviceId": "dev-002", "activationCode": padding.format(code)},
    )
    assert r.status_code == 401


async def test_a_nul_character_anywhere_in_a_body_is_a_400_naming_the_field(gw: Gateway) -> None:
    """PostgreSQL's text cannot hold NUL: a device named "a\\u0000b" was a 500
    there and a stored name on SQLite. Every backend now refuses it alike."""
    r = await gw.call(
        "POST",
        "/api/v1/customer/devices/provision",
        json_body={"deviceId": "dev-001", "name": "a\x00b"},
        headers=gw.customer(),
    )
    assert r.status_code == 400
    assert r.json()["error"]["details"] == {"field": "name"}
    device = await gw.device("dev-002")
    session = await gw.session("dev-002")
    command = await gw.enqueue(session, "job")
    (claimed,) = await gw.claim(device)
    body = {"claimToken": claimed["claimToken"], "status": "success",
            "executedAt": "2024-06-01T10:00:00Z", "duration": 1, "output": "ok\x00"}  # fmt: skip
    r = await gw.call(
        "POST", f"/api/v1/device/commands/{command}/result", json_body=body,
        headers={"X-Device-Token": device["X-Device-Token"]},
    )  # fmt: skip
    assert r.status_code == 400
    assert r.json()["error"]["details"] == {"field": "output"}
    body["output"] = "ok"
    r = await gw.call(
        "POST", f"/api/v1/device/commands/{command}/result", json_body=body,
        headers={"X-Device-Token": device["X-Device-Token"]},
    )  # fmt: skip
    assert r.status_code == 200  # nothing of the refused result was kept
