"""Partners, users and their sessions. A session token is random (256 bits)
and kept only as its SHA-256; it expires and logout revokes it. Passwords are
argon2 hashes (``security.Passwords``). Every method is one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import attrs
import sqlalchemy as sa

from .._errors import Conflict, InvalidInput
from ..events import Broker, Invalidations
from ..security import Passwords, hash_secret, new_secret
from ..storage import Database
from ._errors import SessionExpired, SessionInvalid
from ._rules import Role
from ._sql import SESSION
from ._tables import partners, sessions, users

__all__ = ["SESSION_RECHECK", "Caller", "UserStore"]

_u, _s = users.c, sessions.c

SESSION_RECHECK = 10.0
"""Seconds a verified session is trusted before it is read again. Logout
forgets it at once in every process (a notice through the broker,
``sessions:revoked``); expiry is checked on every call."""


@attrs.frozen
class Caller:
    """Who is calling: a user of a partner, with a role, in a session."""

    user_id: str
    username: str
    role: str
    partner_id: str
    token_hash: str = attrs.field(repr=False)
    expires_at: float


class UserStore:
    def __init__(
        self,
        database: Database,
        clock: Callable[[], float],
        passwords: Passwords,
        broker: Broker,
    ) -> None:
        self.database = database
        self.now = clock
        self.passwords = passwords
        # Sessions already verified: token hash -> (caller, read again at).
        self._sessions: dict[str, tuple[Caller, float]] = {}
        self._revoked = Invalidations(broker, "sessions:revoked", self.forget)

    # -- partners and users (the CLI and the demo) ------------------------------------------
    async def partner(self, name: str) -> str:
        """The id of the partner named ``name``, made if there is none."""
        async with self.database.write() as conn:
            row = (
                await conn.execute(sa.select(partners.c.id).where(partners.c.name == name))
            ).first()
            if row is not None:
                return str(row.id)
            partner_id = str(uuid.uuid4())
            await conn.execute(
                sa.insert(partners).values(id=partner_id, name=name, created_at=self.now())
            )
            return partner_id

    async def create_user(self, username: str, password: str, role: str, partner_id: str) -> str:
        if role not in set(Role):
            raise InvalidInput(f"role: one of {', '.join(Role)}")
        if not username or len(username) > 255 or not password or len(password) > 1024:
            raise InvalidInput("username (1-255) and password (1-1024 characters) are required")
        hashed = self.passwords.hash(password)
        user_id = str(uuid.uuid4())
        async with self.database.write() as conn:
            if (await conn.execute(sa.select(_u.id).where(_u.username == username))).first():
                raise Conflict(f"user {username!r} already exists")
            known = sa.select(partners.c.id).where(partners.c.id == partner_id)
            if (await conn.execute(known)).first() is None:
                raise InvalidInput(f"no partner {partner_id}")
            await conn.execute(
                sa.insert(users).values(
                    id=user_id,
                    partner_id=partner_id,
                    username=username,
                    password_hash=hashed,
                    role=role,
                    created_at=self.now(),
                )
            )
        return user_id

    # -- sessions ---------------------------------------------------------------------------
    async def check_password(self, username: str, password: str) -> Any | None:
        """The user, if the password is theirs; None otherwise, in the same time
        whether the user exists or not."""
        async with self.database.read() as conn:
            row = (await conn.execute(sa.select(users).where(_u.username == username))).first()
        ok = await self.passwords.verify(None if row is None else row.password_hash, password)
        return row if ok else None

    async def open_session(self, user_id: str, ttl: float) -> tuple[str, float]:
        token = new_secret()
        now = self.now()
        async with self.database.write() as conn:
            await conn.execute(
                sa.insert(sessions).values(
                    token_hash=hash_secret(token),
                    user_id=user_id,
                    created_at=now,
                    expires_at=now + ttl,
                )
            )
        return token, now + ttl

    async def caller(self, token: str) -> Caller:
        """The session's user; 401 SESSION_INVALID (unknown, revoked) or SESSION_EXPIRED."""
        digest = hash_secret(token)
        now = self.now()
        cached = self._sessions.get(digest)
        if cached is not None and now < cached[1]:
            caller = cached[0]
        else:
            async with self.database.read() as conn:
                row = (await conn.execute(SESSION, {"p_token_hash": digest})).first()
            if row is None or row.revoked_at is not None:
                self._sessions.pop(digest, None)
                raise SessionInvalid("Invalid session")
            caller = Caller(row.id, row.username, row.role, row.partner_id, digest, row.expires_at)
            if len(self._sessions) >= 100_000:
                self._sessions.clear()
            self._sessions[digest] = (caller, now + SESSION_RECHECK)
        if now >= caller.expires_at:
            raise SessionExpired("Session expired")
        return caller

    def forget(self, token_hash: str | None) -> None:
        """Drop a verified session (all of them: ``None``); its next use re-reads it."""
        if token_hash is None:
            self._sessions.clear()
        else:
            self._sessions.pop(token_hash, None)

    async def revoke(self, caller: Caller) -> None:
        """Log out: the session refused from now on, by every process."""
        async with self.database.write() as conn:
            await conn.execute(
                sa.update(sessions)
                .where(_s.token_hash == caller.token_hash, _s.revoked_at.is_(None))
                .values(revoked_at=self.now())
            )
        await self._revoked.publish(caller.token_hash)
