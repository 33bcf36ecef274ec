"""Per-site cloud connectors: OAuth (Google Workspace, Entra, Okta) and AWS
role assumption. An OAuth ``state`` is random, kept as its hash, bound to the
site and the user, expiring and single-use; the code is exchanged at the
provider's token endpoint and the tokens stored encrypted (AES-GCM, the key
from the settings, the connector's id as associated data), never returned."""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import sqlalchemy as sa

from .._settings import Settings
from ..security import Cipher, hash_secret, new_secret
from ..storage import Database
from . import _tables as t
from ._errors import (
    ConnectorExists,
    OAuthExchangeFailed,
    OAuthProviderError,
    OAuthStateInvalid,
    missing,
)
from ._providers import CALLBACK_PATH, endpoints, exchange_form, granted_scopes
from ._sql import owned_site, page

__all__ = ["IntegrationStore"]

_n, _o = t.connectors.c, t.oauth_states.c
_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:iam::([0-9]{12}):")


class IntegrationStore:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        clock: Callable[[], float],
        cipher: Cipher,
        http: Callable[[], httpx.AsyncClient],
    ) -> None:
        self.database = database
        self.settings = settings
        self.now = clock
        self.cipher = cipher
        self.http = http
        self.redirect_uri = settings.compliance_public_url.rstrip("/") + CALLBACK_PATH

    # -- reading and deleting ---------------------------------------------------------------
    async def find(
        self, partner_id: str, site_id: str, limit: int, offset: int
    ) -> tuple[list[Any], int]:
        query = sa.select(t.connectors).where(_n.site_id == site_id)
        async with self.database.read() as conn:
            await owned_site(conn, partner_id, site_id)
            return await page(conn, query, (_n.provider, _n.id), limit, offset)

    async def _connector(self, conn: Any, partner_id: str, connector_id: str) -> Any:
        query = sa.select(t.connectors).where(_n.id == connector_id, _n.partner_id == partner_id)
        row = (await conn.execute(query)).first()
        if row is None:
            raise missing("connector")
        return row

    async def get(self, partner_id: str, connector_id: str) -> Any:
        async with self.database.read() as conn:
            return await self._connector(conn, partner_id, connector_id)

    async def delete(self, partner_id: str, connector_id: str) -> None:
        async with self.database.write() as conn:
            await self._connector(conn, partner_id, connector_id)
            await conn.execute(sa.delete(t.connectors).where(_n.id == connector_id))

    async def tokens(self, partner_id: str, connector_id: str) -> dict[str, Any] | None:
        """The provider's tokens, decrypted (for the server's own calls; no route answers them)."""
        row = await self.get(partner_id, connector_id)
        if row.tokens is None:
            return None
        loaded: dict[str, Any] = json.loads(self.cipher.decrypt(row.tokens, row.id))
        return loaded

    # -- OAuth ------------------------------------------------------------------------------
    async def start(
        self, partner_id: str, site_id: str, user_id: str, provider: str, account: str | None
    ) -> tuple[str, str, float]:
        """The provider's authorization URL, the state, and when the state expires."""
        ends = endpoints(self.settings, provider, account)
        state = new_secret()
        expires = self.now() + self.settings.oauth_state_ttl
        async with self.database.write() as conn:
            await owned_site(conn, partner_id, site_id)
            await conn.execute(
                sa.insert(t.oauth_states).values(
                    state_hash=hash_secret(state),
                    site_id=site_id,
                    user_id=user_id,
                    provider=provider,
                    account=account,
                    expires_at=expires,
                )
            )
        return ends.auth_url(state, self.redirect_uri), state, expires

    async def _spend(self, partner_id: str, user_id: str, state: str) -> Any:
        """The state's record, spent now; the same 400 for a state that is
        unknown, used, expired, or another user's (or another partner's)."""
        now = self.now()
        digest = hash_secret(state)
        async with self.database.write() as conn:
            query = (
                sa.select(t.oauth_states, t.sites.c.partner_id)
                .select_from(t.oauth_states.join(t.sites, t.sites.c.id == _o.site_id))
                .where(_o.state_hash == digest)
            )
            row = (await conn.execute(query)).first()
            valid = (
                row is not None
                and row.used_at is None
                and now < row.expires_at
                and secrets.compare_digest(row.user_id, user_id)
                and row.partner_id == partner_id
            )
            if not valid:
                raise OAuthStateInvalid("Invalid or expired OAuth state")
            spent = await conn.execute(
                sa.update(t.oauth_states)
                .where(_o.state_hash == digest, _o.used_at.is_(None))
                .values(used_at=now)
            )
            if spent.rowcount != 1:
                raise OAuthStateInvalid("Invalid or expired OAuth state")
            return row

    async def callback(
        self,
        partner_id: str,
        user_id: str,
        state: str,
        code: str | None,
        error: str | None,
    ) -> Any:
        issued = await self._spend(partner_id, user_id, state)
        if error is not None or code is None:
            raise OAuthProviderError(f"The provider refused: {error}")
        ends = endpoints(self.settings, issued.provider, issued.account)
        form = exchange_form(ends, code, self.redirect_uri)
        try:
            answer = await self.http().post(
                ends.token, data=form, headers={"Accept": "application/json"}
            )
        except httpx.HTTPError:
            raise OAuthExchangeFailed(
                "The provider's token endpoint could not be reached"
            ) from None
        if 400 <= answer.status_code < 500:
            raise OAuthProviderError("The provider refused the authorization code")
        try:
            tokens = answer.json() if answer.is_success else None
        except ValueError:
            tokens = None
        if not isinstance(tokens, dict) or not isinstance(tokens.get("access_token"), str):
            raise OAuthExchangeFailed("The provider's token endpoint failed")
        return await self._connect(issued, tokens, granted_scopes(tokens, ends.scope))

    async def _connect(self, issued: Any, tokens: dict[str, Any], scopes: list[str]) -> Any:
        now = self.now()
        async with self.database.write() as conn:
            query = sa.select(t.connectors).where(
                _n.site_id == issued.site_id, _n.provider == issued.provider
            )
            known = (await conn.execute(query)).first()
            connector_id = known.id if known is not None else str(uuid.uuid4())
            values = {
                "status": "connected",
                "account": issued.account,
                "scopes": json.dumps(scopes),
                "tokens": self.cipher.encrypt(json.dumps(tokens).encode(), connector_id),
                "last_error": None,
                "connected_at": now,
                "updated_at": now,
            }
            if known is None:
                await conn.execute(
                    sa.insert(t.connectors).values(
                        id=connector_id,
                        site_id=issued.site_id,
                        partner_id=issued.partner_id,
                        provider=issued.provider,
                        created_at=now,
                        **values,
                    )
                )
            else:
                await conn.execute(
                    sa.update(t.connectors).where(_n.id == connector_id).values(**values)
                )
            return await self._connector(conn, issued.partner_id, connector_id)

    # -- AWS --------------------------------------------------------------------------------
    async def create_aws(self, partner_id: str, site_id: str) -> Any:
        now, connector_id = self.now(), str(uuid.uuid4())
        async with self.database.write() as conn:
            await owned_site(conn, partner_id, site_id)
            query = sa.select(_n.id).where(_n.site_id == site_id, _n.provider == "aws")
            if (await conn.execute(query)).first() is not None:
                raise ConnectorExists("The site already has an AWS connector")
            await conn.execute(
                sa.insert(t.connectors).values(
                    id=connector_id,
                    site_id=site_id,
                    partner_id=partner_id,
                    provider="aws",
                    status="pending",
                    scopes="[]",
                    aws_external_id=secrets.token_hex(16),
                    created_at=now,
                    updated_at=now,
                )
            )
            return await self._connector(conn, partner_id, connector_id)

    async def set_aws_role(self, partner_id: str, site_id: str, role_arn: str) -> Any:
        now = self.now()
        async with self.database.write() as conn:
            await owned_site(conn, partner_id, site_id)
            query = sa.select(t.connectors).where(_n.site_id == site_id, _n.provider == "aws")
            row = (await conn.execute(query)).first()
            if row is None:
                raise missing("connector")
            match = _ACCOUNT.match(role_arn)
            await conn.execute(
                sa.update(t.connectors)
                .where(_n.id == row.id)
                .values(
                    aws_role_arn=role_arn,
                    account=match.group(1) if match else None,
                    status="connected",
                    connected_at=now,
                    updated_at=now,
                )
            )
            return await self._connector(conn, partner_id, row.id)
