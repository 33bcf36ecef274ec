"""Cloud connectors, against a fake OAuth provider's token endpoint on 127.0.0.1.

The OAuth state is single-use, bound to the site and the user, and expires;
provider tokens are stored encrypted (unreadable in the database file
without the key) and no answer ever carries one. Escalations are
test_compliance_escalations.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.compliance_support import Partner, Platform, closed_port, running_platform
from tests.gateway_support import backend
from tests.support import LocalServer

pytestmark = pytest.mark.timeout(60)


ACCESS = "ya29.access-token-that-must-never-leak"
REFRESH = "1//refresh-token-that-must-never-leak"


class Provider:
    """A provider's token endpoint: the code says how it answers."""

    def __init__(self) -> None:
        self.forms: list[dict[str, list[str]]] = []

    async def token(self, request: Request) -> Response:
        form = parse_qs((await request.body()).decode())
        self.forms.append(form)
        code = form["code"][0]
        if code == "refused":
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if code == "broken":
            return JSONResponse({"error": "server_error"}, status_code=500)
        if code == "not-json":
            return Response("<html>", media_type="text/html")
        return JSONResponse(
            {
                "access_token": ACCESS,
                "refresh_token": REFRESH,
                "token_type": "Bearer",
                "expires_in": 3599,
                "scope": "openid email",
            }
        )

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/token", self.token, methods=["POST"]),
                Route("/t/{tenant}/oauth2/v2.0/token", self.token, methods=["POST"]),
            ]
        )


@pytest.fixture
def provider() -> Iterator[tuple[Provider, LocalServer]]:
    fake = Provider()
    server = LocalServer(fake.app())
    server.start()
    yield fake, server
    server.stop()


@pytest.fixture
async def platform(
    tmp_path: Path, provider: tuple[Provider, LocalServer]
) -> AsyncIterator[Platform]:
    _, server = provider
    async with running_platform(
        tmp_path,
        google_client_id="google-client",
        google_client_secret="google-secret",
        google_authorize_url="https://accounts.example/auth",
        google_token_url=f"{server.url}/token",
        azure_client_id="azure-client",
        azure_authority=f"{server.url}/t",
        okta_client_id="okta-client",
        okta_base_url=f"http://127.0.0.1:{closed_port()}/{{domain}}",  # the exchange fails
        aws_principal_arn="arn:aws:iam::123456789012:role/platform",
    ) as platform:
        yield platform


@pytest.fixture
async def acme(platform: Platform) -> Partner:
    return await platform.partner("acme")


async def start(platform: Platform, admin: str, site: str, **body: Any) -> dict[str, Any]:
    body.setdefault("provider", "google_workspace")
    r = await platform.call(
        "POST", f"/api/integrations/sites/{site}", json_body=body, as_user=admin
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def callback(platform: Platform, user: str, **params: str) -> Any:
    return await platform.call(
        "GET", "/api/integrations/oauth/callback", params=params, as_user=user
    )


async def test_the_oauth_flow_exchanges_the_code_and_stores_the_tokens_encrypted(
    platform: Platform, acme: Partner, provider: tuple[Provider, LocalServer]
) -> None:
    fake, _ = provider
    admin, site = acme.users["admin"], await platform.site(acme)
    flow = await start(platform, admin, site)
    url = urlparse(flow["auth_url"])
    query = parse_qs(url.query)
    assert url.netloc == "accounts.example"
    assert query["state"] == [flow["state"]]
    assert query["redirect_uri"] == ["http://127.0.0.1:8080/api/integrations/oauth/callback"]
    r = await callback(platform, admin, state=flow["state"], code="good-code")
    assert r.status_code == 200, r.text
    connector = r.json()
    assert connector["status"] == "connected"
    assert connector["scopes"] == ["openid", "email"]
    (form,) = fake.forms
    assert form["code"] == ["good-code"]
    assert form["client_secret"] == ["google-secret"]
    answers = [r.text]
    for path in (
        f"/api/integrations/sites/{site}",
        f"/api/integrations/connectors/{connector['id']}",
    ):
        answers.append((await platform.call("GET", path, as_user=admin)).text)
    assert all(ACCESS not in text and REFRESH not in text for text in answers)
    # The server can read them back with its key ...
    tokens = await platform.api.integrations.tokens(acme.id, connector["id"])
    assert tokens is not None
    assert tokens["access_token"] == ACCESS
    # ... the database alone cannot (nor, on SQLite, its files).
    async with platform.app.services.database.read() as conn:
        blob = (await conn.execute(sa.text("SELECT tokens FROM cp_connectors"))).scalar_one()
    assert ACCESS.encode() not in blob
    assert REFRESH.encode() not in blob
    if backend().name == "sqlite":
        db = platform.app.services.settings.data_dir / "gateway.db"
        raw = b"".join(p.read_bytes() for p in db.parent.glob("gateway.db*"))
        assert ACCESS.encode() not in raw
        assert REFRESH.encode() not in raw
    assert len(blob) > len(ACCESS)


async def test_a_replayed_expired_unknown_or_foreign_state_is_refused_alike(
    platform: Platform, acme: Partner
) -> None:
    admin, site = acme.users["admin"], await platform.site(acme)
    other = await platform.partner("other")
    await platform.api.users.create_user(
        "acme-admin-2", "correct horse battery staple", "admin", acme.id
    )
    used = await start(platform, admin, site)
    assert (await callback(platform, admin, state=used["state"], code="good")).status_code == 200
    expired = await start(platform, admin, site)
    foreign = await start(platform, admin, site)
    platform.clock.advance(300)
    fresh = await start(platform, admin, site)
    platform.clock.advance(301)  # expired is 601 s old, past the 600 s lifetime; fresh is not
    answers = [
        await callback(platform, admin, state=used["state"], code="good"),
        await callback(platform, admin, state=expired["state"], code="good"),
        await callback(platform, admin, state="A" * 43, code="good"),
        await callback(platform, "acme-admin-2", state=foreign["state"], code="good"),
        await callback(platform, other.users["admin"], state=fresh["state"], code="good"),
    ]
    for r in answers:
        assert (r.status_code, r.json()) == (
            400,
            {
                "detail": "Invalid or expired OAuth state",
                "status": "error",
                "code": "OAUTH_STATE_INVALID",
            },
        )
    # The foreign attempts did not spend the state: its own user still completes.
    r = await callback(platform, admin, state=fresh["state"], code="good")
    assert r.status_code == 200


async def test_a_provider_refusal_and_a_failing_token_endpoint(
    platform: Platform, acme: Partner
) -> None:
    admin, site = acme.users["admin"], await platform.site(acme)
    cases = [
        ({"error": "access_denied"}, 400, "OAUTH_PROVIDER_ERROR", "google_workspace", {}),
        ({"code": "refused"}, 400, "OAUTH_PROVIDER_ERROR", "google_workspace", {}),
        ({"code": "broken"}, 502, "OAUTH_EXCHANGE_FAILED", "google_workspace", {}),
        ({"code": "not-json"}, 502, "OAUTH_EXCHANGE_FAILED", "google_workspace", {}),
        (
            {"code": "good"},
            502,
            "OAUTH_EXCHANGE_FAILED",
            "okta",
            {"okta_domain": "clinic.okta.com"},
        ),
    ]
    for params, status, code, provider_name, extra in cases:
        flow = await start(platform, admin, site, provider=provider_name, **extra)
        r = await callback(platform, admin, state=flow["state"], **params)
        assert (r.status_code, r.json()["code"]) == (status, code), params
        again = await callback(platform, admin, state=flow["state"], code="good")
        assert again.json()["code"] == "OAUTH_STATE_INVALID"  # spent either way
    r = await callback(platform, admin, state="x" * 40)
    assert r.status_code == 422  # neither code nor error
    r = await platform.call("GET", f"/api/integrations/sites/{site}", as_user=admin)
    assert r.json()["total"] == 0


async def test_entra_uses_the_tenant_and_connecting_again_replaces_the_tokens(
    platform: Platform, acme: Partner, provider: tuple[Provider, LocalServer]
) -> None:
    admin, site = acme.users["admin"], await platform.site(acme)
    first = await start(
        platform, admin, site, provider="azure_ad", tenant_id="contoso.onmicrosoft.com"
    )
    assert "/t/contoso.onmicrosoft.com/oauth2/v2.0/authorize?" in first["auth_url"]
    one = (await callback(platform, admin, state=first["state"], code="good")).json()
    second = await start(
        platform, admin, site, provider="azure_ad", tenant_id="contoso.onmicrosoft.com"
    )
    two = (await callback(platform, admin, state=second["state"], code="good")).json()
    assert one["id"] == two["id"]
    assert two["account"] == "contoso.onmicrosoft.com"
    r = await platform.call(
        "POST", f"/api/integrations/sites/{site}", json_body={"provider": "okta"}, as_user=admin
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "okta_domain"]


async def test_aws_role_assumption(platform: Platform, acme: Partner) -> None:
    admin, site = acme.users["admin"], await platform.site(acme)
    path = f"/api/integrations/sites/{site}/aws"
    r = await platform.call(
        "PUT", path, json_body={"role_arn": "arn:aws:iam::210987654321:role/r"}, as_user=admin
    )
    assert (r.status_code, r.json()["code"]) == (404, "CONNECTOR_NOT_FOUND")
    r = await platform.call("POST", path, as_user=admin)
    assert r.status_code == 201
    pending = r.json()
    assert pending["status"] == "pending"
    assert len(pending["aws"]["external_id"]) == 32
    assert pending["aws"]["trusted_principal_arn"] == "arn:aws:iam::123456789012:role/platform"
    assert (await platform.call("POST", path, as_user=admin)).json()["code"] == "CONNECTOR_EXISTS"
    r = await platform.call(
        "PUT", path, json_body={"role_arn": "arn:aws:iam::210987654321:role/reader"}, as_user=admin
    )
    connected = r.json()
    assert connected["status"] == "connected"
    assert connected["account"] == "210987654321"
    assert connected["aws"]["external_id"] == pending["aws"]["external_id"]
    r = await platform.call(
        "PUT",
        path,
        json_body={"role_arn": "arn:aws:iam::1:role/x", "external_id": "mine"},
        as_user=admin,
    )
    assert r.status_code == 422
    r = await platform.call(
        "DELETE", f"/api/integrations/connectors/{connected['id']}", as_user=admin
    )
    assert r.status_code == 204
