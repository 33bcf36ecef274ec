"""Compliance platform sessions: login (the token in the body and as an
HttpOnly, Secure, SameSite=Lax cookie), Bearer or cookie, expiry, logout
revocation, and failed logins (one answer for a wrong user or password,
limited per username and address, never locking out the right password
from elsewhere). Passwords and session tokens are kept hashed only."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.compliance_support import BASE, PASSWORD, Partner, Platform, running_platform
from tests.gateway_support import database_flags

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    async with running_platform(tmp_path, compliance_session_ttl=3600) as platform:
        yield platform


@pytest.fixture
async def acme(platform: Platform) -> Partner:
    return await platform.partner("acme")


async def login(platform: Platform, username: str, password: str = PASSWORD) -> httpx.Response:
    return await platform.call(
        "POST", "/api/auth/login", json_body={"username": username, "password": password}
    )


async def test_login_answers_a_token_and_sets_a_locked_down_cookie(
    platform: Platform, acme: Partner
) -> None:
    r = await login(platform, "acme-operator")
    assert r.status_code == 200
    body = r.json()
    assert body["user"] == {
        "id": body["user"]["id"],
        "username": "acme-operator",
        "role": "operator",
        "partner_id": acme.id,
    }
    assert body["token_type"] == "bearer"
    assert len(body["token"]) >= 43
    cookie = r.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert cookie.startswith(f"session_token={body['token']};")
    assert {"httponly", "secure", "samesite", "path", "max-age"} <= attributes
    assert "samesite=lax" in cookie.lower()
    assert "path=/api" in cookie.lower()
    assert "max-age=3600" in cookie.lower()


async def test_the_cookie_alone_authenticates_and_the_header_wins(
    platform: Platform, acme: Partner
) -> None:
    token = (await login(platform, "acme-viewer")).json()["token"]
    r = await platform.call("GET", "/api/auth/me", headers={"Cookie": f"session_token={token}"})
    assert r.status_code == 200
    assert r.json()["user"]["username"] == "acme-viewer"
    r = await platform.call(
        "GET",
        "/api/auth/me",
        headers={"Cookie": f"session_token={token}", "Authorization": "Bearer " + "z" * 43},
    )
    assert (r.status_code, r.json()["code"]) == (401, "SESSION_INVALID")


async def test_logout_revokes_the_session_and_clears_the_cookie(
    platform: Platform, acme: Partner
) -> None:
    token = (await login(platform, "acme-viewer")).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    other = (await login(platform, "acme-viewer")).json()["token"]
    r = await platform.call("POST", "/api/auth/logout", headers=bearer)
    assert r.status_code == 204
    assert "max-age=0" in r.headers["set-cookie"].lower()
    for headers in (bearer, {"Cookie": f"session_token={token}"}):
        r = await platform.call("GET", "/api/auth/me", headers=headers)
        assert (r.status_code, r.json()["code"]) == (401, "SESSION_INVALID")
    r = await platform.call("GET", "/api/auth/me", headers={"Authorization": f"Bearer {other}"})
    assert r.status_code == 200  # only that session


async def test_sessions_expire(platform: Platform, acme: Partner) -> None:
    r = await login(platform, "acme-viewer")
    bearer = {"Authorization": f"Bearer {r.json()['token']}"}
    me = await platform.call("GET", "/api/auth/me", headers=bearer)
    assert me.json()["expires_at"] == r.json()["expires_at"]
    platform.clock.advance(3599)
    assert (await platform.call("GET", "/api/auth/me", headers=bearer)).status_code == 200
    platform.clock.advance(1)
    r = await platform.call("GET", "/api/auth/me", headers=bearer)
    assert (r.status_code, r.json()["code"]) == (401, "SESSION_EXPIRED")


async def test_a_wrong_user_and_a_wrong_password_get_the_same_answer(
    platform: Platform, acme: Partner
) -> None:
    wrong_password = await login(platform, "acme-admin", "not the password")
    wrong_user = await login(platform, "nobody-at-all", "not the password")
    assert wrong_password.status_code == wrong_user.status_code == 401
    assert wrong_password.json() == wrong_user.json()
    assert wrong_password.json()["code"] == "INVALID_CREDENTIALS"
    assert "set-cookie" not in wrong_password.headers
    assert "set-cookie" not in wrong_user.headers


async def test_an_unknown_user_is_checked_against_a_hash_of_the_same_cost(
    tmp_path: Path,
) -> None:
    # With the server's real argon2 cost, a wrong username takes as long as a
    # wrong password: the unknown user is verified against a dummy hash.
    async with running_platform(
        tmp_path, compliance_password_memory_kib=8192, compliance_password_time_cost=2
    ) as platform:
        await platform.partner("acme")

        async def timed(username: str) -> float:
            best = float("inf")
            for _ in range(3):
                started = time.perf_counter()
                await login(platform, username, "wrong password")
                best = min(best, time.perf_counter() - started)
            return best

        known, unknown = await timed("acme-admin"), await timed("someone-else")
        assert unknown > 0.5 * known, (known, unknown)
        assert known > 0.5 * unknown, (known, unknown)


async def test_failed_logins_are_limited_without_locking_out_the_owner(
    platform: Platform, acme: Partner
) -> None:
    for _ in range(5):
        assert (await login(platform, "acme-admin", "guess")).status_code == 401
    r = await login(platform, "acme-admin", "guess")
    assert (r.status_code, r.json()["code"]) == (429, "RATE_LIMITED")
    assert int(r.headers["Retry-After"]) >= 1
    # The right password from this address waits too (the guesser cannot tell) ...
    assert (await login(platform, "acme-admin")).status_code == 429
    # ... but the owner, from another address, is not refused for someone else's guesses.
    transport = httpx.ASGITransport(app=platform.app, client=("127.0.0.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as elsewhere:
        r = await elsewhere.post(
            "/api/auth/login", json={"username": "acme-admin", "password": PASSWORD}
        )
        assert r.status_code == 200
    platform.clock.advance(60)
    assert (await login(platform, "acme-admin")).status_code == 200


async def test_passwords_and_session_tokens_are_stored_hashed(
    platform: Platform, acme: Partner
) -> None:
    token = (await login(platform, "acme-admin")).json()["token"]
    async with platform.app.services.database.read() as conn:
        users = (await conn.execute(sa.text("SELECT password_hash FROM cp_users"))).all()
        sessions = (await conn.execute(sa.text("SELECT token_hash FROM cp_sessions"))).all()
    assert all(row.password_hash.startswith("$argon2id$") for row in users)
    assert all(PASSWORD not in row.password_hash for row in users)
    assert sessions
    assert all(token not in row.token_hash for row in sessions)


async def test_login_refuses_malformed_bodies_with_every_field_named(platform: Platform) -> None:
    r = await platform.call("POST", "/api/auth/login", json_body={"username": "", "extra": 1})
    assert r.status_code == 422
    locs = sorted(tuple(f["loc"]) for f in r.json()["detail"])
    assert locs == [("body", "extra"), ("body", "password"), ("body", "username")]
    assert r.json()["code"] == "VALIDATION_ERROR"


async def test_create_user_makes_a_user_who_can_log_in(tmp_path: Path) -> None:
    data = tmp_path / "data"

    def create(username: str, role: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gateway_server._cli", "create-user", "--username", username,
             "--role", role, "--partner", "Acme MSP", "--data-dir", str(data), *database_flags(data)],
            input=PASSWORD + "\n", capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    made = create("carol", "operator")
    assert made.returncode == 0, made.stderr
    user = json.loads(made.stdout)
    assert user["role"] == "operator"
    assert PASSWORD not in made.stdout + made.stderr
    again = create("carol", "viewer")
    assert again.returncode != 0
    assert "already exists" in again.stderr
    second = json.loads(create("dave", "viewer").stdout)
    assert second["partner_id"] == user["partner_id"]  # the same partner, by name
    async with running_platform(tmp_path) as platform:
        r = await login(platform, "carol")
        assert r.status_code == 200
        assert r.json()["user"] == {k: user[k] for k in ("id", "username", "role", "partner_id")}
