"""``KubeNexusClient`` and ``AsyncKubeNexusClient`` (also ``Client`` / ``AsyncClient``).

Authentication is either a username and password (a JWT access token and a
refresh token from ``/auth/login``, refreshed ahead of expiry and after a
401 such as ``TOKEN_EXPIRED``, with a fresh login when the refresh token is
refused) or a static API key sent as ``X-API-Key``. The login answer's user is
kept: ``client.login()`` signs in now and returns it, ``client.current_user``
reads it afterwards.
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
    PasswordLogin,
    SDKError,
    StaticAuth,
    SyncAPIClient,
    SyncClientOptions,
    TokenAuth,
)

from . import _requests as req
from ._models import LoginResult, User
from ._resources import (
    SRE,
    Alerts,
    AsyncAlerts,
    AsyncClusters,
    AsyncMetrics,
    AsyncRoles,
    AsyncSRE,
    AsyncUsers,
    AsyncWebhooks,
    Clusters,
    Metrics,
    Roles,
    Users,
    Webhooks,
)
from ._version import __version__

__all__ = ["AsyncKubeNexusClient", "KubeNexusClient"]

REFRESH_MARGIN = 60.0
API_KEY_HEADER = "X-API-Key"


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
        api_key: str | None,
        remember_me: bool | None,
        clock: Clock | None,
    ) -> _Settings:
        env = os.environ
        base_url = base_url or env.get("KUBENEXUS_BASE_URL")
        if not base_url:
            raise InputValidationError(
                "base_url", "missing: pass base_url= or set KUBENEXUS_BASE_URL"
            )
        explicit_password = username is not None or password is not None
        if api_key is None and not explicit_password:
            api_key = env.get("KUBENEXUS_API_KEY")
        if api_key is not None and explicit_password:
            raise InputValidationError(
                "api_key", "give either api_key or username/password, not both"
            )
        if api_key is not None:
            if not api_key:
                raise InputValidationError("api_key", "must not be empty")
            return cls(base_url, StaticAuth(api_key, header=API_KEY_HEADER, scheme=None))
        username = username or env.get("KUBENEXUS_USERNAME")
        password = password or env.get("KUBENEXUS_PASSWORD")
        if not username or not password:
            raise InputValidationError(
                "username" if not username else "password",
                "missing: give username and password (or KUBENEXUS_USERNAME / KUBENEXUS_PASSWORD), "
                "or an api_key (KUBENEXUS_API_KEY)",
            )
        root = base_url.rstrip("/")
        login = PasswordLogin(
            login_url=f"{root}/auth/login",
            refresh_url=f"{root}/auth/refresh",
            username=username,
            password=password,
            extra_login_fields={"remember_me": remember_me} if remember_me is not None else {},
        )
        return cls(base_url, TokenAuth(login, refresh_margin=REFRESH_MARGIN, clock=clock))


def _login_result(auth: httpx.Auth | None) -> LoginResult | None:
    token = auth.token if isinstance(auth, TokenAuth) else None
    return LoginResult.model_validate(token.info) if token is not None else None


def _session(auth: httpx.Auth | None) -> TokenAuth:
    if not isinstance(auth, TokenAuth):
        raise SDKError("this client uses an API key: there is no username/password session")
    return auth


class KubeNexusClient(SyncAPIClient):
    """KubeNexus, sync. ``KubeNexusClient(base_url=..., username=..., password=...)``
    or ``KubeNexusClient(base_url=..., api_key=...)``."""

    package_name = "kubenexus_sdk"
    package_version = __version__

    def __init__(
        self,
        base_url: str | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        api_key: str | None = None,
        remember_me: bool | None = None,
        **options: Unpack[SyncClientOptions],
    ) -> None:
        settings = _Settings.resolve(
            base_url=base_url,
            username=username,
            password=password,
            api_key=api_key,
            remember_me=remember_me,
            clock=options.get("clock"),
        )
        options.setdefault("max_retries", 3)
        super().__init__(base_url=settings.base_url, auth=settings.auth, **options)

    def login(self) -> LoginResult:
        """Sign in now (or keep the valid session) and return the login answer:
        ``result.user`` is the signed-in user. Calls sign in by themselves; this
        is for checking credentials early or reading the user."""
        _session(self._auth).get_token()
        result = _login_result(self._auth)
        assert result is not None
        return result

    @property
    def current_user(self) -> User | None:
        """The user of the last login answer (``None`` before the first call, or
        with an API key)."""
        result = _login_result(self._auth)
        return result.user if result is not None else None

    def logout(self) -> None:
        """End the session on the server and forget the tokens; the next call logs in again."""
        auth = _session(self._auth)
        if auth.token is not None:
            self.request("POST", "/auth/logout", cast_to=None)
        auth.invalidate()

    def change_password(self, current_password: str, new_password: str) -> None:
        """Change the signed-in user's password (at least 8 characters)."""
        self.request_raw(req.change_password_request(current_password, new_password), None)

    @functools.cached_property
    def clusters(self) -> Clusters:
        return Clusters(self)

    @functools.cached_property
    def users(self) -> Users:
        return Users(self)

    @functools.cached_property
    def roles(self) -> Roles:
        return Roles(self)

    @functools.cached_property
    def metrics(self) -> Metrics:
        return Metrics(self)

    @functools.cached_property
    def alerts(self) -> Alerts:
        return Alerts(self)

    @functools.cached_property
    def sre(self) -> SRE:
        return SRE(self)

    @functools.cached_property
    def webhooks(self) -> Webhooks:
        return Webhooks(self)


class AsyncKubeNexusClient(AsyncAPIClient):
    """KubeNexus, async: the same resources and methods, awaited."""

    package_name = "kubenexus_sdk"
    package_version = __version__

    def __init__(
        self,
        base_url: str | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        api_key: str | None = None,
        remember_me: bool | None = None,
        **options: Unpack[AsyncClientOptions],
    ) -> None:
        settings = _Settings.resolve(
            base_url=base_url,
            username=username,
            password=password,
            api_key=api_key,
            remember_me=remember_me,
            clock=options.get("clock"),
        )
        options.setdefault("max_retries", 3)
        super().__init__(base_url=settings.base_url, auth=settings.auth, **options)

    async def login(self) -> LoginResult:
        """Sign in now (or keep the valid session) and return the login answer."""
        await _session(self._auth).aget_token()
        result = _login_result(self._auth)
        assert result is not None
        return result

    @property
    def current_user(self) -> User | None:
        """The user of the last login answer (``None`` before the first call, or
        with an API key)."""
        result = _login_result(self._auth)
        return result.user if result is not None else None

    async def logout(self) -> None:
        auth = _session(self._auth)
        if auth.token is not None:
            await self.request("POST", "/auth/logout", cast_to=None)
        auth.invalidate()

    async def change_password(self, current_password: str, new_password: str) -> None:
        await self.request_raw(req.change_password_request(current_password, new_password), None)

    @functools.cached_property
    def clusters(self) -> AsyncClusters:
        return AsyncClusters(self)

    @functools.cached_property
    def users(self) -> AsyncUsers:
        return AsyncUsers(self)

    @functools.cached_property
    def roles(self) -> AsyncRoles:
        return AsyncRoles(self)

    @functools.cached_property
    def metrics(self) -> AsyncMetrics:
        return AsyncMetrics(self)

    @functools.cached_property
    def alerts(self) -> AsyncAlerts:
        return AsyncAlerts(self)

    @functools.cached_property
    def sre(self) -> AsyncSRE:
        return AsyncSRE(self)

    @functools.cached_property
    def webhooks(self) -> AsyncWebhooks:
        return AsyncWebhooks(self)
