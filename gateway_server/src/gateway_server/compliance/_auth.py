"""Who is calling: the session token (``Authorization: Bearer`` wins over the
``session_token`` cookie), the caller's role checked against the operation's
(401 before 403), and logins: failures limited per username and address, a
wrong username answered exactly as a wrong password."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request

from .._settings import Settings
from ..edge import RateLimiter, header, limited
from ._errors import InvalidCredentials, NotAuthenticated
from ._rules import Role, check_role
from ._users import Caller, UserStore

__all__ = ["COOKIE", "Guard"]

COOKIE = "session_token"


class Guard:
    def __init__(self, settings: Settings, clock: Callable[[], float], users: UserStore) -> None:
        self.users = users
        self.now = clock
        per_minute = settings.compliance_login_failures_per_minute
        self.failures = RateLimiter(per_minute, 60.0, clock)
        self.address_failures = RateLimiter(per_minute * 30, 60.0, clock)

    async def caller(self, request: Request, allowed: frozenset[Role]) -> Caller:
        """The caller, if their session is valid and their role may do this."""
        scheme, _, token = (header(request, b"authorization") or "").partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""
        if not token:
            token = request.cookies.get(COOKIE, "")
        if not token or len(token) > 512:
            raise NotAuthenticated("Not authenticated")
        caller = await self.users.caller(token)
        check_role(caller.role, allowed)
        return caller

    async def login(self, request: Request, username: str, password: str) -> Any:
        """The user, or 401 INVALID_CREDENTIALS (the same whether the user exists
        or not); 429 once the username from this address, or the address, has
        failed too often this minute. Only failures count: the right password
        from another address is never refused for someone else's guesses."""
        address = request.client.host if request.client else "?"
        keys = ((self.failures, f"{username}\x00{address}"), (self.address_failures, address))
        for limiter, key in keys:
            verdict = limiter.peek(key)
            if not verdict.allowed:
                raise limited(verdict, self.now())
        user = await self.users.check_password(username, password)
        if user is None:
            for limiter, key in keys:
                limiter.hit(key)
            raise InvalidCredentials("Invalid credentials")
        return user
