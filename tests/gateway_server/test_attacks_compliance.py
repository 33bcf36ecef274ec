"""The attacks the compliance platform's REST API survives (issue 16's
treatment, for the endpoints of issue 18), each a test that fails if the
defence goes. Access across partners and roles, on every operation, is
tests/gateway_server/test_compliance_access.py; the contract fuzzing,
test_compliance_schemathesis.py; brute-forced logins and the timing of a
wrong username, test_compliance_auth.py."""

from __future__ import annotations

import json
import logging
import stat
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway_server import _cli
from tests.compliance_support import PASSWORD, Partner, Platform, closed_port, running_platform
from tests.support import LocalServer

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    async with running_platform(
        tmp_path, google_client_id="g", google_token_url="http://127.0.0.1:1/token"
    ) as platform:
        yield platform


@pytest.fixture
async def acme(platform: Platform) -> Partner:
    return await platform.partner("acme")


async def test_no_password_session_token_state_or_code_reaches_any_log_line(
    platform: Platform, acme: Partner, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    admin, site = acme.users["admin"], await platform.site(acme)
    token = await platform.token(admin)
    await platform.call(
        "POST", "/api/auth/login", json_body={"username": admin, "password": "wrong-" + PASSWORD}
    )
    await platform.call("GET", "/api/auth/me", headers={"Cookie": f"session_token={token}"})
    flow = (
        await platform.call(
            "POST",
            f"/api/integrations/sites/{site}",
            json_body={"provider": "google_workspace"},
            as_user=admin,
        )
    ).json()
    code = "4/0AX4XfWh-the-authorization-code"
    await platform.call(
        "GET",
        "/api/integrations/oauth/callback",
        params={"state": flow["state"], "code": code},
        as_user=admin,
    )
    enrollment = (
        await platform.call("POST", f"/api/sites/{site}/enrollment-tokens", as_user=admin)
    ).json()["token"]
    own = "http://127.0.0.1:8080/"  # the test client's own httpx lines
    logged = "\n".join(m for r in caplog.records if own not in (m := r.getMessage()))
    assert "/api/integrations/oauth/callback" in logged  # the access log did see it
    for secret in (PASSWORD, token, flow["state"], code, enrollment):
        assert secret not in logged


def test_the_server_process_keeps_httpx_from_logging_urls() -> None:
    # An escalation webhook URL often carries its secret in the path.
    _cli.configure_logging("info")
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)


async def test_login_never_adopts_a_session_the_caller_brought(
    platform: Platform, acme: Partner
) -> None:
    planted = "attacker-chosen-session-token-0123456789abcdef"
    r = await platform.call(
        "POST",
        "/api/auth/login",
        json_body={"username": acme.users["viewer"], "password": PASSWORD},
        headers={"Cookie": f"session_token={planted}"},
    )
    assert r.json()["token"] != planted
    r = await platform.call("GET", "/api/auth/me", headers={"Authorization": f"Bearer {planted}"})
    assert r.status_code == 401


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer ",
        "Bearer " + "A" * 10_000,
        "Bearer ' OR '1'='1",
        "Basic YWRtaW46YWRtaW4=",
        "bearer\tnull",
        "Bearer \u00e9\u00e9",
    ],
)
async def test_forged_bearer_tokens_are_401(
    platform: Platform, acme: Partner, authorization: str
) -> None:
    r = await platform.http.get(
        "/api/sites", headers={b"Authorization": authorization.encode("utf-8")}
    )
    assert r.status_code == 401
    assert r.json()["code"] in ("NOT_AUTHENTICATED", "SESSION_INVALID")


async def test_mass_assignment_is_refused(platform: Platform, acme: Partner) -> None:
    admin, site = acme.users["admin"], await platform.site(acme)
    other = await platform.partner("other")
    attempts = [
        ("PUT", f"/api/sites/{site}", {"name": "x", "partner_id": other.id}),
        ("POST", "/api/sites", {"name": "y", "id": site}),
        ("POST", "/api/auth/login", {"username": admin, "password": PASSWORD, "role": "admin"}),
        (
            "PUT",
            f"/api/integrations/sites/{site}/aws",
            {"role_arn": "arn:aws:iam::123456789012:role/r", "external_id": "x" * 32},
        ),
        ("POST", f"/api/incidents/{site}/resolve", {"note": "n", "resolved_by": "agent"}),
    ]
    for method, path, body in attempts:
        r = await platform.call(method, path, json_body=body, as_user=admin)
        assert r.status_code == 422, (path, r.text)
    r = await platform.call("GET", f"/api/sites/{site}", as_user=admin)
    assert r.json()["partner_id"] == acme.id


async def test_injection_shaped_values_are_stored_as_text(
    platform: Platform, acme: Partner
) -> None:
    admin = acme.users["admin"]
    for name in ("'; DROP TABLE cp_sites; --", 'Robert"); --', "%_\\", "<script>alert(1)</script>"):
        r = await platform.call("POST", "/api/sites", json_body={"name": name}, as_user=admin)
        assert r.status_code == 201
        assert r.json()["name"] == name
    r = await platform.call("GET", "/api/sites", as_user=admin)
    assert r.json()["total"] == 4
    r = await platform.call(
        "GET", "/api/incidents", params={"site_id": "' OR 1=1 --"}, as_user=admin
    )
    assert r.status_code == 422


async def test_hostile_bodies_are_4xx_never_500(platform: Platform, acme: Partner) -> None:
    admin = acme.users["admin"]
    deep = b"[" * 100_000 + b"]" * 100_000
    bodies = [
        deep,
        b'{"name": "\xff\xfe"}',
        b'{"name": 1e400}',
        b"\x00" * 100,
        json.dumps({"name": "x" * 256}).encode(),
        b'"just a string"',
        b'{"name": "nul \\u0000 inside"}',  # PostgreSQL cannot store it: refused everywhere
        b"[]",
    ]
    for body in bodies:
        r = await platform.call(
            "POST",
            "/api/sites",
            content=body,
            headers={"Content-Type": "application/json"},
            as_user=admin,
        )
        assert 400 <= r.status_code < 500, (body[:40], r.status_code)
    params = {f"p{i}": "x" for i in range(500)}
    r = await platform.call("GET", "/api/incidents", params=params, as_user=admin)
    assert r.status_code == 422


async def test_secrets_at_rest_are_hashed_or_sealed_and_key_files_private(
    platform: Platform, acme: Partner
) -> None:
    admin, site = acme.users["admin"], await platform.site(acme)
    enrollment = (
        await platform.call("POST", f"/api/sites/{site}/enrollment-tokens", as_user=admin)
    ).json()
    session = await platform.token(admin)
    data = platform.app.services.settings.data_dir
    raw = b"".join(p.read_bytes() for p in data.glob("gateway.db*"))
    assert enrollment["token"].encode() not in raw
    assert session.encode() not in raw
    assert PASSWORD.encode() not in raw
    for key in (data / "compliance-token-key", data / "agent-ca" / "agent-ca.key"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key


async def test_the_oauth_callback_needs_the_session_of_the_user_who_started_it(
    platform: Platform, acme: Partner
) -> None:
    # A login CSRF / code injection: a victim's browser sent to the callback
    # with the attacker's state gets nothing: no session is 401, another user's 400.
    admin, site = acme.users["admin"], await platform.site(acme)
    flow = (
        await platform.call(
            "POST",
            f"/api/integrations/sites/{site}",
            json_body={"provider": "google_workspace"},
            as_user=admin,
        )
    ).json()
    r = await platform.call(
        "GET", "/api/integrations/oauth/callback", params={"state": flow["state"], "code": "c"}
    )
    assert (r.status_code, r.json()["code"]) == (401, "NOT_AUTHENTICATED")
    victim = await platform.partner("victim")
    r = await platform.call(
        "GET",
        "/api/integrations/oauth/callback",
        params={"state": flow["state"], "code": "c"},
        as_user=victim.users["admin"],
    )
    assert (r.status_code, r.json()["code"]) == (400, "OAUTH_STATE_INVALID")


async def test_a_revoked_or_expired_session_cannot_be_revived_by_the_cookie(
    platform: Platform, acme: Partner
) -> None:
    token = await platform.token(acme.users["operator"])
    await platform.call("POST", "/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
    for headers in ({"Cookie": f"session_token={token}"}, {"Authorization": f"Bearer {token}"}):
        r = await platform.call("POST", "/api/auth/logout", headers=headers)
        assert (r.status_code, r.json()["code"]) == (401, "SESSION_INVALID")


async def _busy(request: Request) -> Response:
    return Response("busy", status_code=503)


def test_a_real_server_process_writes_no_secret_at_any_log_level(tmp_path: Path) -> None:
    # issue 16's first finding, for the compliance endpoints: a real
    # `gateway-server serve` at debug level, logins right and wrong, Bearer and
    # cookie, an OAuth callback and an escalation to a webhook whose URL holds a
    # secret; then everything the process wrote is searched.
    data, port = tmp_path / "data", closed_port()
    hook_secret = "hook-secret-0123456789abcdef"
    created = subprocess.run(
        [sys.executable, "-m", "gateway_server._cli", "create-user", "--username", "alice",
         "--role", "admin", "--partner", "Acme", "--data-dir", str(data)],
        input=PASSWORD + "\n", capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    hook = LocalServer(Starlette(routes=[Route(f"/{hook_secret}", _busy, methods=["POST"])]))
    hook.start()
    server = subprocess.Popen(
        [sys.executable, "-m", "gateway_server._cli", "serve", "--port", str(port),
         "--data-dir", str(data), "--log-level", "debug", "--google-client-id", "g",
         "--no-grpc-enabled",
         "--google-token-url", f"http://127.0.0.1:{closed_port()}/token",
         "--escalation-webhook-url", f"{hook.url}/{hook_secret}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    secrets_seen: list[str] = [PASSWORD, hook_secret]
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=10) as http:
            wrong = {"username": "alice", "password": "wrong-" + PASSWORD}
            assert http.post("/api/auth/login", json=wrong).status_code == 401
            login = http.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
            token = login.json()["token"]
            bearer = {"Authorization": f"Bearer {token}"}
            site = http.post("/api/sites", json={"name": "Clinic"}, headers=bearer).json()["id"]
            flow = http.post(
                f"/api/integrations/sites/{site}",
                json={"provider": "google_workspace"},
                headers=bearer,
            ).json()
            code = "4/0AX4XfWh-a-code"
            http.get(
                "/api/integrations/oauth/callback",
                params={"state": flow["state"], "code": code},
                headers={"Cookie": f"session_token={token}"},
            )
            enrollment = http.post(f"/api/sites/{site}/enrollment-tokens", headers=bearer).json()
            body = {"site_id": site, "subject": "s", "message": "m"}
            http.post("/api/escalation/notifications", json=body, headers=bearer)
            time.sleep(1.5)  # the delivery task's first attempt
            secrets_seen += [token, flow["state"], code, enrollment["token"]]
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
        hook.stop()
    written = output.decode(errors="replace")
    assert "/api/integrations/oauth/callback" in written  # the access log saw it
    for secret in secrets_seen:
        assert secret not in written
