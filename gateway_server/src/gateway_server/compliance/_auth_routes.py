"""``/api/auth``: log in (a session token in the body and as a cookie), log
out (revoked), and the current session."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from ..edge import ok
from ._auth import COOKIE
from ._parsing import body, query
from ._routing import Operation
from ._rules import READ
from ._schemas import LoginBody
from ._views import iso, user_json

if TYPE_CHECKING:
    from ._api import Compliance

__all__ = ["AuthRoutes"]


class AuthRoutes:
    def __init__(self, api: Compliance) -> None:
        self.api = api
        self.limit = api.services.settings.max_body_bytes
        self.ttl = api.services.settings.compliance_session_ttl

    def operations(self) -> list[Operation]:
        return [
            ("POST", "/api/auth/login", self.login),
            ("POST", "/api/auth/logout", self.logout),
            ("GET", "/api/auth/me", self.me),
        ]

    def _cookie(self, response: Response, token: str, max_age: int) -> None:
        response.set_cookie(
            COOKIE, token, max_age=max_age, path="/api", secure=True, httponly=True, samesite="lax"
        )

    async def login(self, request: Request) -> Response:
        query(request, {})
        credentials = await body(request, LoginBody, self.limit)
        user = await self.api.guard.login(request, credentials.username, credentials.password)
        token, expires = await self.api.users.open_session(user.id, self.ttl)
        answer = {
            "user": user_json(user),
            "token": token,
            "token_type": "bearer",
            "expires_at": iso(expires),
        }
        response = ok(request, answer)
        self._cookie(response, token, self.ttl)
        return response

    async def logout(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, READ)
        query(request, {})
        await self.api.users.revoke(caller)
        response = Response(status_code=204)
        self._cookie(response, "", 0)
        return response

    async def me(self, request: Request) -> Response:
        caller = await self.api.guard.caller(request, READ)
        query(request, {})
        user = {
            "id": caller.user_id,
            "username": caller.username,
            "role": caller.role,
            "partner_id": caller.partner_id,
        }
        return ok(request, {"user": user, "expires_at": iso(caller.expires_at)})
