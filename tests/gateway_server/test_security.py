"""Devices and customers reach only what is theirs; secrets are hashed, single-use and expiring."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import ec

from tests.gateway_server.jwks_server import jwks_server
from tests.gateway_support import Gateway, _dev, running_gateway


async def test_activation_code_works_once(gw: Gateway) -> None:
    code = await gw.provision("dev-001")
    first = await gw.call(
        "POST", "/api/v1/device/register", json_body={"deviceId": "dev-001", "activationCode": code}
    )
    assert first.status_code == 200
    assert len(first.json()["deviceSecret"]) >= 43  # 256 bits, base64url
    again = await gw.call(
        "POST", "/api/v1/device/register", json_body={"deviceId": "dev-001", "activationCode": code}
    )
    assert again.status_code == 409


async def test_register_errors(gw: Gateway) -> None:
    await gw.provision("dev-001")
    wrong = await gw.call(
        "POST",
        "/api/v1/device/register",
        json_body={"deviceId": "dev-001", "activationCode": "AAAA-BBBB-CCCC-DDDD"},
    )
    assert wrong.status_code == 401
    unknown = await gw.call(
        "POST",
        "/api/v1/device/register",
        json_body={"deviceId": "dev-999", "activationCode": "AAAA"},
    )
    assert unknown.status_code == 404


async def test_activation_code_expires_after_24_hours(gw: Gateway) -> None:
    code = await gw.provision("dev-001")
    gw.clock.advance(24 * 3600 + 1)
    late = await gw.call(
        "POST", "/api/v1/device/register", json_body={"deviceId": "dev-001", "activationCode": code}
    )
    assert late.status_code == 401
    assert late.json()["error"]["code"] == "ACTIVATION_CODE_EXPIRED"


async def test_secrets_and_tokens_are_stored_only_hashed(gw: Gateway) -> None:
    code = await gw.provision("dev-001")
    r = await gw.call(
        "POST", "/api/v1/device/register", json_body={"deviceId": "dev-001", "activationCode": code}
    )
    secret = r.json()["deviceSecret"]
    auth = await gw.call(
        "POST", "/api/v1/device/auth", json_body={"deviceId": "dev-001", "deviceSecret": secret}
    )
    token = auth.json()["token"]
    session = await gw.session("dev-001")
    await gw.enqueue(session, "x")
    (claimed,) = await gw.claim({"X-Device-Token": token})
    engine = gw.api.services.database.engine
    rows: list[sa.Row[Any]] = []
    async with engine.connect() as conn:
        for table in ("devices", "device_tokens", "commands"):
            rows += (await conn.execute(sa.text(f"SELECT * FROM {table}"))).all()
    dump = " ".join(str(row) for row in rows)
    assert "dev-001" in dump
    for plaintext in (secret, token, claimed["claimToken"], code):
        assert plaintext not in dump


async def test_wrong_secret_expired_token_and_suspended_device(gw: Gateway) -> None:
    device = await gw.device("dev-001")
    bad = await gw.call(
        "POST", "/api/v1/device/auth", json_body={"deviceId": "dev-001", "deviceSecret": "guess"}
    )
    assert bad.status_code == 401
    gw.clock.advance(3601)
    expired = await gw.call(
        "POST",
        "/api/v1/device/heartbeat",
        json_body={"timestamp": "2024-06-01T10:00:00Z", "status": "online"},
        headers=_dev(device),
    )
    assert expired.status_code == 401
    async with gw.api.services.database.write() as conn:
        await conn.execute(sa.text("UPDATE devices SET status = 'suspended' WHERE id = 'dev-001'"))
    suspended = await gw.call(
        "POST",
        "/api/v1/device/auth",
        json_body={"deviceId": "dev-001", "deviceSecret": device["secret"]},
    )
    assert suspended.status_code == 403


async def test_auth_attempts_are_rate_limited(gw: Gateway) -> None:
    await gw.provision("dev-001")
    statuses = []
    for _ in range(12):
        r = await gw.call(
            "POST",
            "/api/v1/device/auth",
            json_body={"deviceId": "dev-001", "deviceSecret": "guess"},
        )
        statuses.append(r.status_code)
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]
    assert int(r.headers["Retry-After"]) >= 1
    assert r.headers["X-RateLimit-Limit"] == "10"
    assert r.headers["X-RateLimit-Remaining"] == "0"


async def test_device_requests_are_rate_limited_per_device(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, device_rate_per_minute=5) as gw:
        device = await gw.device("dev-001")
        codes = []
        for _ in range(7):
            r = await gw.call(
                "POST", "/api/v1/device/commands/claim", json_body={}, headers=_dev(device)
            )
            codes.append(r.status_code)
        assert codes == [200] * 5 + [429] * 2
        assert r.json()["error"]["code"] == "RATE_LIMITED"
        gw.clock.advance(60)
        ok = await gw.call(
            "POST", "/api/v1/device/commands/claim", json_body={}, headers=_dev(device)
        )
        assert ok.status_code == 200
        assert ok.headers["X-RateLimit-Remaining"] == "4"


# -- customers ------------------------------------------------------------------------
async def test_cross_customer_access_is_refused_on_every_customer_endpoint(gw: Gateway) -> None:
    await gw.device("dev-001", customer="cust-a")
    session = await gw.session("dev-001", customer="cust-a")
    command = await gw.enqueue(session, "x", customer="cust-a")
    other = gw.customer("cust-b")
    listing = await gw.call("GET", "/api/v1/customer/devices", headers=other)
    assert listing.json() == {"devices": [], "total": 0}
    attempts = [
        ("GET", "/api/v1/customer/devices/dev-001/status", None),
        ("POST", "/api/v1/customer/sessions", {"deviceId": "dev-001", "type": "diagnostic"}),
        ("GET", f"/api/v1/customer/sessions/{session}", None),
        ("POST", f"/api/v1/customer/sessions/{session}/commands", {"type": "evil"}),
        (
            "POST",
            f"/api/v1/customer/sessions/{session}/approve",
            {"commandId": command, "approved": True},
        ),
    ]
    for method, path, body in attempts:
        r = await gw.call(method, path, json_body=body, headers=other)
        assert r.status_code in (403, 404), (path, r.status_code)
        assert "dev-001" not in r.text or r.status_code == 403
        assert "error" in r.json()
    provision = await gw.call(
        "POST",
        "/api/v1/customer/devices/provision",
        json_body={"deviceId": "dev-001"},
        headers=other,
    )
    assert provision.status_code == 409  # the id is taken; nothing about its owner is shown
    assert set(provision.json()["error"]) == {"code", "message"}


async def test_customer_socket_refuses_another_customers_device(gw: Gateway) -> None:
    assert not await gw.api.devices.owns_device("cust-b", "dev-404")


@pytest.mark.parametrize(
    "make",
    [
        lambda s: jwt.encode(
            {"sub": "cust-a", "exp": int(time.time()) + 60, "aud": "gateway"},
            None,  # type: ignore[arg-type]  # alg=none takes no key: the attack under test
            algorithm="none",
        ),
        lambda s: jwt.encode(
            {"sub": "cust-a", "exp": int(time.time()) - 3600, "aud": "gateway"},
            s,
            algorithm="HS256",
        ),
        lambda s: jwt.encode(
            {"sub": "cust-a", "exp": int(time.time()) + 60, "aud": "other"}, s, algorithm="HS256"
        ),
        lambda s: jwt.encode(
            {"sub": "cust-a", "exp": int(time.time()) + 60, "aud": "gateway"},
            "x" * 40,
            algorithm="HS256",
        ),
        lambda s: jwt.encode({"sub": "cust-a", "aud": "gateway"}, s, algorithm="HS256"),
        lambda s: jwt.encode(
            {"exp": int(time.time()) + 60, "aud": "gateway"}, s, algorithm="HS256"
        ),
        lambda s: "not.a.jwt",
    ],
    ids=[
        "alg-none",
        "expired",
        "wrong-audience",
        "wrong-secret",
        "no-exp",
        "no-customer",
        "garbage",
    ],
)
async def test_bad_customer_tokens_are_refused(gw: Gateway, make: object) -> None:
    token = make(gw.api.services.settings.jwt_secret)  # type: ignore[operator]
    r = await gw.call(
        "GET", "/api/v1/customer/devices", headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "INVALID_TOKEN"


async def test_missing_credentials(gw: Gateway) -> None:
    assert (await gw.call("GET", "/api/v1/customer/devices")).status_code == 401
    assert (
        await gw.call(
            "POST",
            "/api/v1/device/heartbeat",
            json_body={"timestamp": "2024-06-01T10:00:00Z", "status": "online"},
        )
    ).status_code == 401


async def test_es256_tokens_from_a_jwks_file_and_a_custom_claim(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "ES256"}]}))
    async with running_gateway(tmp_path, jwt_jwks=str(jwks), jwt_customer_claim="org_id") as gw:
        token = jwt.encode(
            {"org_id": "org-7", "exp": int(time.time()) + 60, "aud": "gateway"},
            key,
            algorithm="ES256",
            headers={"kid": "k1"},
        )
        r = await gw.call(
            "POST",
            "/api/v1/customer/devices/provision",
            json_body={"deviceId": "dev-777"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 201
        assert await gw.api.devices.owns_device("org-7", "dev-777")
        other_key = ec.generate_private_key(ec.SECP256R1())
        forged = jwt.encode(
            {"org_id": "org-7", "exp": int(time.time()) + 60, "aud": "gateway"},
            other_key,
            algorithm="ES256",
            headers={"kid": "k1"},
        )
        r = await gw.call(
            "GET", "/api/v1/customer/devices", headers={"Authorization": f"Bearer {forged}"}
        )
        assert r.status_code == 401


async def test_rs256_tokens_from_a_jwks_url(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    document = {"keys": [{**jwk, "kid": "r1", "use": "sig", "alg": "RS256"}]}
    with jwks_server(document) as jwks:
        async with running_gateway(tmp_path, jwt_jwks=jwks.url) as gw:
            token = jwt.encode(
                {"sub": "cust-rs", "exp": int(time.time()) + 60, "aud": "gateway"},
                key,
                algorithm="RS256",
                headers={"kid": "r1"},
            )
            r = await gw.call(
                "GET", "/api/v1/customer/devices", headers={"Authorization": f"Bearer {token}"}
            )
            assert r.status_code == 200
            hs = jwt.encode(
                {"sub": "cust-rs", "exp": int(time.time()) + 60, "aud": "gateway"},
                "k" * 40,
                algorithm="HS256",
            )
            r = await gw.call(
                "GET", "/api/v1/customer/devices", headers={"Authorization": f"Bearer {hs}"}
            )
            assert (
                r.status_code == 401
            )  # this server was given the JWKS and its generated secret only
