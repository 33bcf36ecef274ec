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
from typing import Unpack, cast

import attrs
import httpx

from sdk_core import (
    AsyncAPIClient,
    AsyncClientOptions,
    Clock,
    InputValidationError,
    RequestOverrides,
    SDKError,
    Secret,
    StaticAuth,
    SyncAPIClient,
    SyncClientOptions,
    TokenAuth,
)

from . import _requests as req
from ._models import CurrentSession
from ._raw import AsyncComplianceClientWithRawResponse, ComplianceClientWithRawResponse
from ._resources import (
    AsyncEscalations,
    AsyncFleet,
    AsyncIncidents,
    AsyncIntegrations,
    AsyncLearning,
    AsyncRunbooks,
    AsyncSites,
    Escalations,
    Fleet,
    Incidents,
    Integrations,
    Learning,
    Runbooks,
    Sites,
)
from ._version import __version__

__all__ = ["AsyncComplianceClient", "ComplianceClient"]

RELOGIN_MARGIN = 60.0
ME = req.get("/api/auth/me")
LOGOUT = req.post("/api/auth/logout")
BASE_URL_ENV = "COMPLIANCE_BASE_URL"
TOKEN_ENV = "COMPLIANCE_TOKEN"  # noqa: S105 - the variable's name, not a secret
USERNAME_ENV, PASSWORD_ENV = "COMPLIANCE_USERNAME", "COMPLIANCE_PASSWORD"


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
        password: str | Secret | None,
        token: str | Secret | None,
        clock: Clock | None,
    ) -> _Settings:
        env = os.environ
        base_url = base_url or env.get(BASE_URL_ENV)
        if not base_url:
            raise InputValidationError("base_url", f"missing: pass base_url= or set {BASE_URL_ENV}")
        explicit = username is not None or password is not None
        if token is not None and explicit:
            raise InputValidationError("token", "give either token or username/password, not both")
        if token is None and not explicit:
            token = env.get(TOKEN_ENV)
        if token is not None:
            if not token:
                raise InputValidationError("token", "must not be empty")
            return cls(base_url, StaticAuth(Secret(token)))
        username = username or env.get(USERNAME_ENV)
        password = password or env.get(PASSWORD_ENV)
        if not username or not password:
            raise InputValidationError(
                "username" if not username else "password",
                f"missing: give username and password (or {USERNAME_ENV} / "
                f"{PASSWORD_ENV}), or a session token ({TOKEN_ENV})",
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
        password: str | Secret | None = None,
        token: str | Secret | None = None,
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

    def login(self, **options: Unpack[RequestOverrides]) -> CurrentSession:
        """Open a new session now (the calls log in by themselves otherwise)."""
        auth = _session_auth(self._auth)
        auth.invalidate()
        return self.me(**options)

    def me(self, **options: Unpack[RequestOverrides]) -> CurrentSession:
        """The session's user and when it expires."""
        raw = self.request_raw(ME, CurrentSession, req.per_call(options))
        return cast(CurrentSession, raw.parsed)

    def logout(self, **options: Unpack[RequestOverrides]) -> None:
        """Revoke the session on the server and forget it; a later call logs in again."""
        auth = _session_auth(self._auth)
        if auth.token is not None:
            self.request_raw(LOGOUT, None, req.per_call(options))
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

    @functools.cached_property
    def with_raw_response(self) -> ComplianceClientWithRawResponse:
        """The same calls, answering an ``APIResponse`` of what they return:
        ``client.with_raw_response.incidents.get(incident_id)``."""
        return ComplianceClientWithRawResponse(self)


class AsyncComplianceClient(AsyncAPIClient):
    """The compliance platform, async: the same resources and methods, awaited."""

    package_name = "compliance_sdk"
    package_version = __version__

    def __init__(
        self,
        base_url: str | None = None,
        *,
        username: str | None = None,
        password: str | Secret | None = None,
        token: str | Secret | None = None,
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

    async def login(self, **options: Unpack[RequestOverrides]) -> CurrentSession:
        auth = _session_auth(self._auth)
        auth.invalidate()
        return await self.me(**options)

    async def me(self, **options: Unpack[RequestOverrides]) -> CurrentSession:
        raw = await self.request_raw(ME, CurrentSession, req.per_call(options))
        return cast(CurrentSession, raw.parsed)

    async def logout(self, **options: Unpack[RequestOverrides]) -> None:
        auth = _session_auth(self._auth)
        if auth.token is not None:
            await self.request_raw(LOGOUT, None, req.per_call(options))
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

    @functools.cached_property
    def with_raw_response(self) -> AsyncComplianceClientWithRawResponse:
        return AsyncComplianceClientWithRawResponse(self)
