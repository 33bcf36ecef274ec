"""``ComplianceClient`` and ``AsyncComplianceClient``.

Authentication is a username and password (a session is opened at the first
call, and opened again when it expires or is refused: the server's 401
``SESSION_EXPIRED``), or a session token already had (``token=``, kept until
the server refuses it). Configuration from arguments, else the environment:
``COMPLIANCE_BASE_URL``, ``COMPLIANCE_USERNAME`` / ``COMPLIANCE_PASSWORD``
or ``COMPLIANCE_TOKEN``.
"""

from __future__ import annotations

import functools
import os
from typing import Unpack

import attrs
import httpx

from sdk_core import (
    AsyncAPIClient,
    AsyncClientOptions,
    Clock,
    InputValidationError,
    SDKError,
    StaticAuth,
    SyncAPIClient,
    SyncClientOptions,
    TokenAuth,
)

from . import _requests as req
from ._connections import AsyncEscalations, AsyncIntegrations, Escalations, Integrations
from ._incidents import AsyncIncidents, AsyncLearning, AsyncRunbooks, Incidents, Learning, Runbooks
from ._models import CurrentSession
from ._sites import AsyncFleet, AsyncSites, Fleet, Sites
from ._version import __version__

__all__ = ["AsyncComplianceClient", "ComplianceClient"]

RELOGIN_MARGIN = 60.0
ME = "/api/auth/me"
LOGOUT = "/api/auth/logout"


@attrs.frozen(repr=False)
class _Settings:
    base_url: str
    auth: httpx.Auth

    @classmethod
    def resolve(
        cls,
        *,
        base_url: str | None,
        username: str | None,
        password: str | None,
        token: str | None,
        clock: Clock | None,
    ) -> _Settings:
        env = os.environ
        base_url = base_url or env.get("COMPLIANCE_BASE_URL")
        if not base_url:
            raise InputValidationError(
                "base_url", "missing: pass base_url= or set COMPLIANCE_BASE_URL"
            )
        explicit = username is not None or password is not None
        if token is not None and explicit:
            raise InputValidationError("token", "give either token or username/password, not both")
        if token is None and not explicit:
            token = env.get("COMPLIANCE_TOKEN")
        if token is not None:
            if not token:
                raise InputValidationError("token", "must not be empty")
            return cls(base_url, StaticAuth(token))
        username = username or env.get("COMPLIANCE_USERNAME")
        password = password or env.get("COMPLIANCE_PASSWORD")
        if not username or not password:
            raise InputValidationError(
                "username" if not username else "password",
                "missing: give username and password (or COMPLIANCE_USERNAME / "
                "COMPLIANCE_PASSWORD), or a session token (COMPLIANCE_TOKEN)",
            )
        login = req.SessionLogin(f"{base_url.rstrip('/')}{req.LOGIN_PATH}", username, password)
        return cls(base_url, TokenAuth(login, refresh_margin=RELOGIN_MARGIN, clock=clock))


def _session_auth(auth: httpx.Auth | None) -> TokenAuth:
    if not isinstance(auth, TokenAuth):
        raise SDKError(
            "login and logout manage a username/password session; this client has a token"
        )
    return auth


class ComplianceClient(SyncAPIClient):
    """The compliance platform, sync:
    ``ComplianceClient(base_url=..., username=..., password=...)``."""

    package_name = "compliance_sdk"
    package_version = __version__

    def __init__(
        self,
        base_url: str | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        **options: Unpack[SyncClientOptions],
    ) -> None:
        settings = _Settings.resolve(
            base_url=base_url,
            username=username,
            password=password,
            token=token,
            clock=options.get("clock"),
        )
        options.setdefault("max_retries", 2)
        super().__init__(base_url=settings.base_url, auth=settings.auth, **options)

    def login(self) -> CurrentSession:
        """Open a new session now (the calls log in by themselves otherwise)."""
        auth = _session_auth(self._auth)
        auth.invalidate()
        return self.me()

    def me(self) -> CurrentSession:
        """The session's user and when it expires."""
        return self.request("GET", ME, cast_to=CurrentSession)

    def logout(self) -> None:
        """Revoke the session on the server and forget it; a later call logs in again."""
        auth = _session_auth(self._auth)
        if auth.token is not None:
            self.request("POST", LOGOUT, cast_to=None)
        auth.invalidate()

    @functools.cached_property
    def sites(self) -> Sites:
        return Sites(self)

    @functools.cached_property
    def fleet(self) -> Fleet:
        return Fleet(self)

    @functools.cached_property
    def incidents(self) -> Incidents:
        return Incidents(self)

    @functools.cached_property
    def runbooks(self) -> Runbooks:
        return Runbooks(self)

    @functools.cached_property
    def learning(self) -> Learning:
        return Learning(self)

    @functools.cached_property
    def integrations(self) -> Integrations:
        return Integrations(self)

    @functools.cached_property
    def escalations(self) -> Escalations:
        return Escalations(self)


class AsyncComplianceClient(AsyncAPIClient):
    """The compliance platform, async: the same resources and methods, awaited."""

    package_name = "compliance_sdk"
    package_version = __version__

    def __init__(
        self,
        base_url: str | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        **options: Unpack[AsyncClientOptions],
    ) -> None:
        settings = _Settings.resolve(
            base_url=base_url,
            username=username,
            password=password,
            token=token,
            clock=options.get("clock"),
        )
        options.setdefault("max_retries", 2)
        super().__init__(base_url=settings.base_url, auth=settings.auth, **options)

    async def login(self) -> CurrentSession:
        auth = _session_auth(self._auth)
        auth.invalidate()
        return await self.me()

    async def me(self) -> CurrentSession:
        return await self.request("GET", ME, cast_to=CurrentSession)

    async def logout(self) -> None:
        auth = _session_auth(self._auth)
        if auth.token is not None:
            await self.request("POST", LOGOUT, cast_to=None)
        auth.invalidate()

    @functools.cached_property
    def sites(self) -> AsyncSites:
        return AsyncSites(self)

    @functools.cached_property
    def fleet(self) -> AsyncFleet:
        return AsyncFleet(self)

    @functools.cached_property
    def incidents(self) -> AsyncIncidents:
        return AsyncIncidents(self)

    @functools.cached_property
    def runbooks(self) -> AsyncRunbooks:
        return AsyncRunbooks(self)

    @functools.cached_property
    def learning(self) -> AsyncLearning:
        return AsyncLearning(self)

    @functools.cached_property
    def integrations(self) -> AsyncIntegrations:
        return AsyncIntegrations(self)

    @functools.cached_property
    def escalations(self) -> AsyncEscalations:
        return AsyncEscalations(self)
