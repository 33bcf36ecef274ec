"""Who is calling: the session token (``Authorization: Bearer`` wins over the
``session_token`` cookie), the caller's role checked against the operation's
(401 before 403), and logins: failures limited per username and address, a
wrong username answered exactly as a wrong password."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request

from .._settings import Settings
from ..edge import FailureBudget, LimitsFactory, header
from ._errors import InvalidCredentials, NotAuthenticated
from ._rules import Role, check_role
from ._users import Caller, UserStore

__all__ = ["COOKIE", "Guard"]

COOKIE = "session_token"


class Guard:
    def __init__(
        self,
        settings: Settings,
        clock: Callable[[], float],
        users: UserStore,
        limits: LimitsFactory,
    ) -> None:
        self.users = users
        self.now = clock
        self.failures = FailureBudget(
            settings.compliance_login_failures_per_minute, clock, limits=limits, name="login"
        )

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
        # Passwords are guessable, unlike device secrets: a spent budget refuses
        # even the right password from that address (others still log in).
        refused = await self.failures.spent(username, address)
        if refused is not None:
            raise refused
        user = await self.users.check_password(username, password)
        if user is None:
            await self.failures.fail(username, address)
            raise InvalidCredentials("Invalid credentials")
        return user
