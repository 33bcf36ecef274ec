"""The OAuth providers, I/O-free: each one's authorization and token
endpoints (from the settings, so that tests point them at a local fake), its
client, the scopes asked for, and what its answers mean."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import attrs

from .._settings import Settings

__all__ = ["CALLBACK_PATH", "Endpoints", "endpoints", "exchange_form", "granted_scopes"]

CALLBACK_PATH = "/api/integrations/oauth/callback"

SCOPES = {
    "google_workspace": (
        "openid email https://www.googleapis.com/auth/admin.directory.user.readonly "
        "https://www.googleapis.com/auth/admin.reports.audit.readonly"
    ),
    "azure_ad": "openid offline_access https://graph.microsoft.com/.default",
    "okta": "openid offline_access okta.users.read okta.logs.read",
}


@attrs.frozen
class Endpoints:
    authorize: str
    token: str
    client_id: str | None
    client_secret: str | None = attrs.field(repr=False)
    scope: str

    def auth_url(self, state: str, redirect_uri: str) -> str:
        query = {
            "client_id": self.client_id or "",
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": self.scope,
            "state": state,
        }
        return f"{self.authorize}?{urlencode(query)}"


def endpoints(settings: Settings, provider: str, account: str | None) -> Endpoints:
    """``account``: the Entra tenant (default ``organizations``) or the Okta domain."""
    scope = SCOPES[provider]
    if provider == "google_workspace":
        return Endpoints(
            settings.google_authorize_url,
            settings.google_token_url,
            settings.google_client_id,
            settings.google_client_secret,
            scope,
        )
    if provider == "azure_ad":
        base = f"{settings.azure_authority.rstrip('/')}/{account or 'organizations'}/oauth2/v2.0"
        return Endpoints(
            f"{base}/authorize",
            f"{base}/token",
            settings.azure_client_id,
            settings.azure_client_secret,
            scope,
        )
    base = settings.okta_base_url.replace("{domain}", account or "").rstrip("/") + "/oauth2/v1"
    return Endpoints(
        f"{base}/authorize",
        f"{base}/token",
        settings.okta_client_id,
        settings.okta_client_secret,
        scope,
    )


def exchange_form(endpoints: Endpoints, code: str, redirect_uri: str) -> dict[str, str]:
    """The token request's form (RFC 6749 section 4.1.3, client secret in the body)."""
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": endpoints.client_id or "",
        "client_secret": endpoints.client_secret or "",
    }


def granted_scopes(answer: dict[str, Any], asked: str) -> list[str]:
    scope = answer.get("scope")
    return (scope if isinstance(scope, str) else asked).split()
