"""KubeNexus sign-in: passwords to JWT access tokens (HS256, expiring on the
server's clock) and rotating refresh tokens; API keys in ``X-API-Key``;
logout revokes both. Who is calling is a user record, and each route names
the permission it needs."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import attrs
import jwt

from ..._errors import Forbidden, Unauthenticated
from ...security import hash_secret, new_secret
from ._store import Record, Store, password_matches

__all__ = ["Caller", "Sessions"]

REFRESH_TTL = 7 * 86400
REMEMBERED_REFRESH_TTL = 30 * 86400


@attrs.frozen
class Caller:
    user: Record
    token_id: str | None  # the access token's jti; None for an API key


class Sessions:
    def __init__(self, store: Store, clock: Callable[[], float], access_ttl: int) -> None:
        self.store = store
        self.clock = clock
        self.access_ttl = access_ttl
        self.key = secrets.token_bytes(32)
        self.refresh_tokens: dict[str, tuple[int, float]] = {}  # hash -> (user id, expires)
        self.revoked: set[str] = set()

    def issue(self, user: Record, *, remember: bool = False) -> dict[str, Any]:
        now = self.clock()
        claims = {
            "sub": str(user["id"]),
            "username": user["username"],
            "jti": new_secret(12),
            "iat": int(now),
            "exp": int(now) + self.access_ttl,
        }
        refresh = new_secret()
        ttl = REMEMBERED_REFRESH_TTL if remember else REFRESH_TTL
        self.refresh_tokens[hash_secret(refresh)] = (user["id"], now + ttl)
        return {
            "access_token": jwt.encode(claims, self.key, algorithm="HS256"),
            "refresh_token": refresh,
            "token_type": "bearer",
            "expires_in": self.access_ttl,
        }

    def refresh(self, token: str) -> tuple[Record, dict[str, Any]]:
        """New tokens for a live refresh token, which is spent (rotation)."""
        held = self.refresh_tokens.pop(hash_secret(token), None)
        if held is None or self.clock() >= held[1]:
            raise Unauthenticated("invalid or expired refresh token", code="INVALID_TOKEN")
        user = self.store.users.get(held[0])
        self._active(user)
        return user, self.issue(user)

    def login(self, username: str, password: str) -> Record:
        user = self.store.user_by_name(username)
        stored = self.store.passwords.get(user["id"]) if user else None
        if user is None or stored is None or not password_matches(stored, password):
            raise Unauthenticated("invalid username or password", code="INVALID_CREDENTIALS")
        self._active(user)
        return user

    @staticmethod
    def _active(user: Record) -> None:
        if user.get("status") != "active":
            raise Unauthenticated(f"the account is {user.get('status')}", code="ACCOUNT_DISABLED")

    def caller(self, authorization: str | None, api_key: str | None) -> Caller:
        if api_key:
            user_id = self.store.api_keys.get(hash_secret(api_key))
            if user_id is None:
                raise Unauthenticated("invalid API key", code="INVALID_API_KEY")
            user = self.store.users.get(user_id)
            self._active(user)
            return Caller(user, None)
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthenticated("authentication required", code="UNAUTHORIZED")
        try:
            claims = jwt.decode(
                authorization[7:].strip(),
                self.key,
                algorithms=["HS256"],
                # time is the server's clock, checked below, not the machine's
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "require": ["exp", "sub", "jti"],
                },
            )
        except jwt.PyJWTError:
            raise Unauthenticated("invalid token", code="INVALID_TOKEN") from None
        if claims["jti"] in self.revoked:
            raise Unauthenticated("the token was revoked", code="INVALID_TOKEN")
        if self.clock() >= claims["exp"]:
            raise Unauthenticated("the access token has expired", code="TOKEN_EXPIRED")
        user = self.store.users.get(claims["sub"])
        self._active(user)
        return Caller(user, claims["jti"])

    def logout(self, caller: Caller) -> None:
        if caller.token_id is not None:
            self.revoked.add(caller.token_id)
        uid = caller.user["id"]
        self.refresh_tokens = {h: v for h, v in self.refresh_tokens.items() if v[0] != uid}

    def require(self, caller: Caller, permission: str) -> None:
        if permission not in self.store.permissions(caller.user):
            raise Forbidden(
                f"this needs the {permission!r} permission",
                {"permission": permission},
                code="INSUFFICIENT_PERMISSIONS",
            )
