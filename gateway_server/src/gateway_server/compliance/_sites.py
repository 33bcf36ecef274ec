"""Sites and their agent enrollment tokens. Every method is one transaction,
scoped to the caller's partner; the decisions are ``_rules.py``'s."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from ..security import hash_secret, new_secret
from ..storage import Database
from . import _tables as t
from ._errors import SiteNameConflict, missing
from ._sql import owned_site, page

__all__ = ["SiteStore"]

_s, _e = t.sites.c, t.enrollment_tokens.c
TOKEN_PREFIX = "cet_"  # noqa: S105 (a prefix, not a secret)


def _name_key(name: str) -> str:
    return name.casefold()


class SiteStore:
    def __init__(self, database: Database, clock: Callable[[], float]) -> None:
        self.database = database
        self.now = clock

    async def find(self, partner_id: str, limit: int, offset: int) -> tuple[list[Any], int]:
        query = sa.select(t.sites).where(_s.partner_id == partner_id)
        async with self.database.read() as conn:
            return await page(conn, query, (_s.name_key, _s.id), limit, offset)

    async def get(self, partner_id: str, site_id: str) -> Any:
        async with self.database.read() as conn:
            return await owned_site(conn, partner_id, site_id)

    async def _name_taken(self, conn: Any, partner_id: str, name: str, but: str | None) -> None:
        query = sa.select(_s.id).where(_s.partner_id == partner_id, _s.name_key == _name_key(name))
        row = (await conn.execute(query)).first()
        if row is not None and row.id != but:
            raise SiteNameConflict(f"A site named {name!r} already exists")

    async def create(self, partner_id: str, name: str, tier: str) -> Any:
        site_id, now = str(uuid.uuid4()), self.now()
        async with self.database.write() as conn:
            await self._name_taken(conn, partner_id, name, None)
            await conn.execute(
                sa.insert(t.sites).values(
                    id=site_id,
                    partner_id=partner_id,
                    name=name,
                    name_key=_name_key(name),
                    capability_tier=tier,
                    created_at=now,
                    updated_at=now,
                )
            )
            return await owned_site(conn, partner_id, site_id)

    async def update(self, partner_id: str, site_id: str, name: str, tier: str | None) -> Any:
        async with self.database.write() as conn:
            site = await owned_site(conn, partner_id, site_id)
            await self._name_taken(conn, partner_id, name, site_id)
            await conn.execute(
                sa.update(t.sites)
                .where(_s.id == site_id)
                .values(
                    name=name,
                    name_key=_name_key(name),
                    capability_tier=tier or site.capability_tier,
                    updated_at=self.now(),
                )
            )
            return await owned_site(conn, partner_id, site_id)

    async def delete(self, partner_id: str, site_id: str) -> None:
        """The site and everything under it; its agents revoked (kept, so that
        the agent channel can tell a revoked agent from an unknown one)."""
        async with self.database.write() as conn:
            await owned_site(conn, partner_id, site_id)
            for table in (
                t.incidents,
                t.executions,
                t.candidates,
                t.connectors,
                t.oauth_states,
                t.escalations,
                t.enrollment_tokens,
                t.agent_checks,
            ):
                await conn.execute(sa.delete(table).where(table.c.site_id == site_id))
            await conn.execute(
                sa.update(t.agents)
                .where(t.agents.c.site_id == site_id, t.agents.c.revoked_at.is_(None))
                .values(revoked_at=self.now())
            )
            await conn.execute(sa.delete(t.sites).where(_s.id == site_id))

    # -- enrollment tokens ------------------------------------------------------------------
    def _status_is(self, status: str, now: float) -> sa.ColumnElement[bool]:
        live = _e.revoked_at.is_(None)
        used_up = sa.and_(_e.max_uses.is_not(None), _e.uses >= _e.max_uses)
        if status == "revoked":
            return _e.revoked_at.is_not(None)
        if status == "exhausted":
            return sa.and_(live, used_up)
        if status == "expired":
            return sa.and_(live, sa.not_(used_up), _e.expires_at <= now)
        return sa.and_(live, sa.not_(used_up), _e.expires_at > now)

    async def tokens(
        self, partner_id: str, site_id: str, status: str | None, limit: int, offset: int
    ) -> tuple[list[Any], int]:
        query = sa.select(t.enrollment_tokens).where(_e.site_id == site_id)
        if status is not None:
            query = query.where(self._status_is(status, self.now()))
        async with self.database.read() as conn:
            await owned_site(conn, partner_id, site_id)
            return await page(conn, query, (_e.created_at.desc(), _e.id.desc()), limit, offset)

    async def _token(self, conn: Any, site_id: str, token_id: str) -> Any:
        query = sa.select(t.enrollment_tokens).where(_e.id == token_id, _e.site_id == site_id)
        row = (await conn.execute(query)).first()
        if row is None:
            raise missing("enrollment_token")
        return row

    async def token(self, partner_id: str, site_id: str, token_id: str) -> Any:
        async with self.database.read() as conn:
            await owned_site(conn, partner_id, site_id)
            return await self._token(conn, site_id, token_id)

    async def create_token(
        self,
        partner_id: str,
        site_id: str,
        *,
        created_by: str | None,
        description: str | None,
        ttl: int,
        max_uses: int | None,
    ) -> tuple[Any, str]:
        """A new token's record, and the token itself (only its hash is kept)."""
        token = TOKEN_PREFIX + new_secret()
        token_id, now = str(uuid.uuid4()), self.now()
        async with self.database.write() as conn:
            await owned_site(conn, partner_id, site_id)
            await conn.execute(
                sa.insert(t.enrollment_tokens).values(
                    id=token_id,
                    site_id=site_id,
                    partner_id=partner_id,
                    description=description,
                    token_hash=hash_secret(token),
                    token_prefix=token[:8],
                    max_uses=max_uses,
                    uses=0,
                    expires_at=now + ttl,
                    created_at=now,
                    created_by=created_by,
                )
            )
            return await self._token(conn, site_id, token_id), token

    async def token_active(self, token: str) -> bool:
        """Whether ``token`` is an active token (a read; spending it decides)."""
        if not token:
            return False
        query = sa.select(_e.id).where(
            _e.token_hash == hash_secret(token), self._status_is("active", self.now())
        )
        async with self.database.read() as conn:
            return (await conn.execute(query)).first() is not None

    async def spend_token_in(self, conn: Any, token: str) -> str | None:
        """One use of an active token spent, in the caller's transaction (one
        conditional UPDATE: racing enrollments never exceed ``max_uses``);
        the token's site, or None for a token that is not active."""
        if not token:
            return None
        token_hash, now = hash_secret(token), self.now()
        spend = (
            sa.update(t.enrollment_tokens)
            .where(_e.token_hash == token_hash, self._status_is("active", now))
            .values(uses=_e.uses + 1, last_used_at=now)
        )
        if (await conn.execute(spend)).rowcount != 1:
            return None
        site_id: str = (
            await conn.execute(sa.select(_e.site_id).where(_e.token_hash == token_hash))
        ).scalar_one()
        return site_id

    async def revoke_token(self, partner_id: str, site_id: str, token_id: str) -> Any:
        async with self.database.write() as conn:
            await owned_site(conn, partner_id, site_id)
            await self._token(conn, site_id, token_id)
            await conn.execute(
                sa.update(t.enrollment_tokens)
                .where(_e.id == token_id, _e.revoked_at.is_(None))
                .values(revoked_at=self.now())
            )
            return await self._token(conn, site_id, token_id)
