"""``client.integrations``: each site's cloud connectors (OAuth providers and AWS roles)."""

from __future__ import annotations

import functools
from typing import Unpack

from sdk_core import (
    NOT_GIVEN,
    AsyncPageRequest,
    NotGiven,
    RequestOverrides,
    SyncPage,
    async_to_raw_response_wrapper,
    to_raw_response_wrapper,
)

from .. import _requests as req
from .._models import Connector, OAuthAuthorization, OAuthProvider
from ._base import AsyncResource, SyncResource

__all__ = [
    "AsyncIntegrations",
    "AsyncIntegrationsWithRawResponse",
    "Integrations",
    "IntegrationsWithRawResponse",
]

CONNECTORS = "/api/integrations/connectors"


def _site(site_id: str, suffix: str = "") -> str:
    return req.path("/api/integrations/sites", site_id, "site_id", suffix)


class Integrations(SyncResource):
    def list(
        self,
        site_id: str,
        *,
        limit: int | NotGiven | None = NOT_GIVEN,
        offset: int | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> SyncPage[Connector]:
        """The first page of the site's connectors, fetched now."""
        return self._list(_site(site_id), Connector, req.list_params(limit, offset), options)

    def start_oauth(
        self,
        site_id: str,
        *,
        provider: OAuthProvider,
        tenant_id: str | NotGiven | None = NOT_GIVEN,
        okta_domain: str | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> OAuthAuthorization:
        """The provider's authorization URL for the user's browser, and its state."""
        body = req.oauth_body(provider, tenant_id, okta_domain)
        return self._one(req.post(_site(site_id), body), OAuthAuthorization, options)

    def complete_oauth(
        self,
        *,
        state: str,
        code: str | NotGiven | None = NOT_GIVEN,
        error: str | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> Connector:
        """What the provider's redirect carries, handed to the callback (its
        single-use ``state`` is not sent twice)."""
        return self._one(req.callback_request(state, code, error), Connector, options)

    def create_aws(self, site_id: str, **options: Unpack[RequestOverrides]) -> Connector:
        return self._one(req.post(_site(site_id, "/aws")), Connector, options)

    def set_aws_role(
        self, site_id: str, *, role_arn: str, **options: Unpack[RequestOverrides]
    ) -> Connector:
        opts = req.put(_site(site_id, "/aws"), req.role_arn_body(role_arn))
        return self._one(opts, Connector, options)

    def get(self, connector_id: str, **options: Unpack[RequestOverrides]) -> Connector:
        opts = req.get(req.path(CONNECTORS, connector_id, "connector_id"))
        return self._one(opts, Connector, options)

    def delete(self, connector_id: str, **options: Unpack[RequestOverrides]) -> None:
        self._none(req.delete(req.path(CONNECTORS, connector_id, "connector_id")), options)

    @functools.cached_property
    def with_raw_response(self) -> IntegrationsWithRawResponse:
        """The same methods, answering an ``APIResponse`` of what they return."""
        return IntegrationsWithRawResponse(self)


class AsyncIntegrations(AsyncResource):
    def list(
        self,
        site_id: str,
        *,
        limit: int | NotGiven | None = NOT_GIVEN,
        offset: int | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> AsyncPageRequest[Connector]:
        return self._list(_site(site_id), Connector, req.list_params(limit, offset), options)

    async def start_oauth(
        self,
        site_id: str,
        *,
        provider: OAuthProvider,
        tenant_id: str | NotGiven | None = NOT_GIVEN,
        okta_domain: str | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> OAuthAuthorization:
        body = req.oauth_body(provider, tenant_id, okta_domain)
        return await self._one(req.post(_site(site_id), body), OAuthAuthorization, options)

    async def complete_oauth(
        self,
        *,
        state: str,
        code: str | NotGiven | None = NOT_GIVEN,
        error: str | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> Connector:
        return await self._one(req.callback_request(state, code, error), Connector, options)

    async def create_aws(self, site_id: str, **options: Unpack[RequestOverrides]) -> Connector:
        return await self._one(req.post(_site(site_id, "/aws")), Connector, options)

    async def set_aws_role(
        self, site_id: str, *, role_arn: str, **options: Unpack[RequestOverrides]
    ) -> Connector:
        opts = req.put(_site(site_id, "/aws"), req.role_arn_body(role_arn))
        return await self._one(opts, Connector, options)

    async def get(self, connector_id: str, **options: Unpack[RequestOverrides]) -> Connector:
        opts = req.get(req.path(CONNECTORS, connector_id, "connector_id"))
        return await self._one(opts, Connector, options)

    async def delete(self, connector_id: str, **options: Unpack[RequestOverrides]) -> None:
        await self._none(req.delete(req.path(CONNECTORS, connector_id, "connector_id")), options)

    @functools.cached_property
    def with_raw_response(self) -> AsyncIntegrationsWithRawResponse:
        return AsyncIntegrationsWithRawResponse(self)


class IntegrationsWithRawResponse:
    def __init__(self, integrations: Integrations) -> None:
        self.list = to_raw_response_wrapper(integrations.list)
        self.start_oauth = to_raw_response_wrapper(integrations.start_oauth)
        self.complete_oauth = to_raw_response_wrapper(integrations.complete_oauth)
        self.create_aws = to_raw_response_wrapper(integrations.create_aws)
        self.set_aws_role = to_raw_response_wrapper(integrations.set_aws_role)
        self.get = to_raw_response_wrapper(integrations.get)
        self.delete = to_raw_response_wrapper(integrations.delete)


class AsyncIntegrationsWithRawResponse:
    def __init__(self, integrations: AsyncIntegrations) -> None:
        self.list = async_to_raw_response_wrapper(integrations.list)
        self.start_oauth = async_to_raw_response_wrapper(integrations.start_oauth)
        self.complete_oauth = async_to_raw_response_wrapper(integrations.complete_oauth)
        self.create_aws = async_to_raw_response_wrapper(integrations.create_aws)
        self.set_aws_role = async_to_raw_response_wrapper(integrations.set_aws_role)
        self.get = async_to_raw_response_wrapper(integrations.get)
        self.delete = async_to_raw_response_wrapper(integrations.delete)
