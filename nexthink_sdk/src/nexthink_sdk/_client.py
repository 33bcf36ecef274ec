"""``NexthinkClient`` and ``AsyncNexthinkClient``.

Both are configured the same way (arguments, else ``NEXTHINK_*`` environment
variables: ``NEXTHINK_INSTANCE``, ``NEXTHINK_REGION``, ``NEXTHINK_CLIENT_ID``,
``NEXTHINK_CLIENT_SECRET``, and ``NEXTHINK_BASE_URL`` / ``NEXTHINK_TOKEN_URL``
to point elsewhere), authenticate with OAuth2 client credentials through sdk_core's
token manager (900 s tokens, refreshed 5 minutes ahead, single flight), and
expose the same resources.
"""

from __future__ import annotations

import functools
import os
import time
from typing import Any, Unpack

import attrs
import httpx

from sdk_core import (
    APIResponse,
    APIStatusError,
    AsyncAPIClient,
    AsyncClientOptions,
    ClientCredentials,
    Clock,
    InputValidationError,
    RateLimitInfo,
    Secret,
    SyncAPIClient,
    SyncClientOptions,
    TokenAuth,
)

from . import _requests as req
from ._errors import RemoteActionNotEnabledError
from ._export import AsyncStorage, Storage
from ._resources import (
    NQL,
    AsyncCampaigns,
    AsyncDataManagement,
    AsyncEnrichments,
    AsyncNQL,
    AsyncRemoteActions,
    AsyncWorkflows,
    Campaigns,
    DataManagement,
    Enrichments,
    RemoteActions,
    Workflows,
)
from ._version import __version__

__all__ = ["REGIONS", "AsyncNexthinkClient", "NexthinkClient", "Settings", "get_rate_limit"]

REGIONS = ("us", "eu", "pac", "meta")
SCOPE = "service:integration"
REFRESH_MARGIN = 300.0  # 5 minutes ahead of the 900 s expiry


@attrs.frozen(repr=False)
class Settings:
    """Where and who: resolved from arguments, then the environment."""

    base_url: str
    token_url: str
    client_id: str
    client_secret: Secret = attrs.field(converter=Secret)
    """Masked in ``repr()`` and ``str()``; ``.reveal()`` gives the value."""

    @classmethod
    def resolve(
        cls,
        *,
        instance: str | None,
        region: str | None,
        client_id: str | None,
        client_secret: str | Secret | None,
        base_url: str | None,
        token_url: str | None,
    ) -> Settings:
        env = os.environ
        base_url = base_url or env.get("NEXTHINK_BASE_URL") or None
        token_url = token_url or env.get("NEXTHINK_TOKEN_URL") or None
        instance = instance or env.get("NEXTHINK_INSTANCE")
        region = region or env.get("NEXTHINK_REGION")
        client_id = client_id or env.get("NEXTHINK_CLIENT_ID")
        client_secret = client_secret or env.get("NEXTHINK_CLIENT_SECRET")
        if not client_id:
            raise InputValidationError(
                "client_id", "missing: pass client_id= or set NEXTHINK_CLIENT_ID"
            )
        if not client_secret:
            raise InputValidationError(
                "client_secret", "missing: pass client_secret= or set NEXTHINK_CLIENT_SECRET"
            )
        if base_url is None or token_url is None:
            if not instance:
                raise InputValidationError(
                    "instance",
                    "missing: pass instance= or set NEXTHINK_INSTANCE "
                    "(or give base_url and token_url, or NEXTHINK_BASE_URL and NEXTHINK_TOKEN_URL)",
                )
            if not all(c.isalnum() or c == "-" for c in instance):
                raise InputValidationError(
                    "instance", "may hold only letters, digits and '-'", value=instance
                )
            if region not in REGIONS:
                raise InputValidationError(
                    "region", f"must be one of {', '.join(REGIONS)}", value=region
                )
        return cls(
            base_url=base_url or f"https://{instance}.api.{region}.nexthink.cloud",
            token_url=token_url
            or f"https://{instance}-login.{region}.nexthink.cloud/oauth2/default/v1/token",
            client_id=client_id,
            client_secret=client_secret,
        )

    def auth(self, clock: Clock | None) -> TokenAuth:
        provider = ClientCredentials(
            token_url=self.token_url,
            client_id=self.client_id,
            client_secret=self.client_secret,
            scope=SCOPE,
        )
        return TokenAuth(provider, refresh_margin=REFRESH_MARGIN, clock=clock)

    def __repr__(self) -> str:
        return (
            f"Settings(base_url={self.base_url!r}, token_url={self.token_url!r}, "
            f"client_id={self.client_id!r})"
        )


def _error_class(response: httpx.Response) -> type[APIStatusError] | None:
    if req.remote_action_disabled(response):
        return RemoteActionNotEnabledError
    return None


def get_rate_limit(source: APIResponse[Any] | APIStatusError | httpx.Response) -> RateLimitInfo:
    """``X-Rate-Limit``, ``-Remaining``, ``-Reset`` and ``Retry-After`` of a raw
    response, an error, or an httpx response."""
    if isinstance(source, (APIResponse, APIStatusError)):
        return source.rate_limit
    return RateLimitInfo.from_headers(source.headers, now=time.time())


class NexthinkClient(SyncAPIClient):
    """Nexthink Infinity, sync.

    ``NexthinkClient(instance="acme", region="eu", client_id=..., client_secret=...)``;
    ``base_url=`` and ``token_url=`` point it elsewhere (a local test server).
    ``download_client=`` is the plain ``httpx.Client`` export files are fetched
    with (it never carries Nexthink credentials).
    """

    package_name = "nexthink_sdk"
    package_version = __version__

    def __init__(
        self,
        instance: str | None = None,
        region: str | None = None,
        *,
        client_id: str | None = None,
        client_secret: str | Secret | None = None,
        base_url: str | None = None,
        token_url: str | None = None,
        download_client: httpx.Client | None = None,
        **options: Unpack[SyncClientOptions],
    ) -> None:
        self.settings = Settings.resolve(
            instance=instance,
            region=region,
            client_id=client_id,
            client_secret=client_secret,
            base_url=base_url,
            token_url=token_url,
        )
        super().__init__(
            base_url=self.settings.base_url,
            auth=self.settings.auth(options.get("clock")),
            **options,
        )
        self._given_download_client = download_client
        self._storage: Storage | None = None

    def _error_class(self, response: httpx.Response) -> type[APIStatusError] | None:
        return _error_class(response)

    def _download_client(self) -> Storage:
        if self._storage is None:
            client = self._given_download_client or httpx.Client(
                timeout=httpx.Timeout(300.0, connect=10.0), follow_redirects=True
            )
            self._storage = Storage(client, self.clock.time)
        return self._storage

    def close(self) -> None:
        super().close()
        if self._owns_http and self._storage is not None and self._given_download_client is None:
            self._storage.client.close()

    @functools.cached_property
    def nql(self) -> NQL:
        return NQL(self)

    @functools.cached_property
    def enrichment(self) -> Enrichments:
        return Enrichments(self)

    @functools.cached_property
    def campaigns(self) -> Campaigns:
        return Campaigns(self)

    @functools.cached_property
    def remote_actions(self) -> RemoteActions:
        return RemoteActions(self)

    @functools.cached_property
    def workflows(self) -> Workflows:
        return Workflows(self)

    @functools.cached_property
    def data_management(self) -> DataManagement:
        return DataManagement(self)


class AsyncNexthinkClient(AsyncAPIClient):
    """Nexthink Infinity, async: the same resources and methods, awaited."""

    package_name = "nexthink_sdk"
    package_version = __version__

    def __init__(
        self,
        instance: str | None = None,
        region: str | None = None,
        *,
        client_id: str | None = None,
        client_secret: str | Secret | None = None,
        base_url: str | None = None,
        token_url: str | None = None,
        download_client: httpx.AsyncClient | None = None,
        **options: Unpack[AsyncClientOptions],
    ) -> None:
        self.settings = Settings.resolve(
            instance=instance,
            region=region,
            client_id=client_id,
            client_secret=client_secret,
            base_url=base_url,
            token_url=token_url,
        )
        super().__init__(
            base_url=self.settings.base_url,
            auth=self.settings.auth(options.get("clock")),
            **options,
        )
        self._given_download_client = download_client
        self._storage: AsyncStorage | None = None

    def _error_class(self, response: httpx.Response) -> type[APIStatusError] | None:
        return _error_class(response)

    def _download_client(self) -> AsyncStorage:
        if self._storage is None:
            client = self._given_download_client or httpx.AsyncClient(
                timeout=httpx.Timeout(300.0, connect=10.0), follow_redirects=True
            )
            self._storage = AsyncStorage(client, self.clock.time)
        return self._storage

    async def close(self) -> None:
        await super().close()
        if self._owns_http and self._storage is not None and self._given_download_client is None:
            await self._storage.client.aclose()

    @functools.cached_property
    def nql(self) -> AsyncNQL:
        return AsyncNQL(self)

    @functools.cached_property
    def enrichment(self) -> AsyncEnrichments:
        return AsyncEnrichments(self)

    @functools.cached_property
    def campaigns(self) -> AsyncCampaigns:
        return AsyncCampaigns(self)

    @functools.cached_property
    def remote_actions(self) -> AsyncRemoteActions:
        return AsyncRemoteActions(self)

    @functools.cached_property
    def workflows(self) -> AsyncWorkflows:
        return AsyncWorkflows(self)

    @functools.cached_property
    def data_management(self) -> AsyncDataManagement:
        return AsyncDataManagement(self)
