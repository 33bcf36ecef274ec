"""``client.sites``: sites and their agent enrollment tokens."""

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
from .._models import (
    CapabilityTier,
    EnrollmentToken,
    EnrollmentTokenCreated,
    Site,
    TokenStatus,
)
from ._base import AsyncResource, SyncResource

__all__ = ["AsyncSites", "AsyncSitesWithRawResponse", "Sites", "SitesWithRawResponse"]

SITES = "/api/sites"


class Sites(SyncResource):
    def list(
        self,
        *,
        limit: int | NotGiven | None = NOT_GIVEN,
        offset: int | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> SyncPage[Site]:
        """The first page of the partner's sites, by name, fetched now (``limit``
        a page); iterate it for the sites of every page."""
        return self._list(SITES, Site, req.list_params(limit, offset), options)

    def get(self, site_id: str, **options: Unpack[RequestOverrides]) -> Site:
        return self._one(req.get(req.site_path(site_id)), Site, options)

    def create(
        self,
        *,
        name: str,
        capability_tier: CapabilityTier | NotGiven | None = NOT_GIVEN,
        partner_id: str | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> Site:
        """A new site of the caller's partner (``partner_id``, when given, must be it)."""
        body = req.site_body(name, capability_tier, partner_id)
        return self._one(req.post(SITES, body), Site, options)

    def update(
        self,
        site_id: str,
        *,
        name: str,
        capability_tier: CapabilityTier | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> Site:
        """Rename the site; ``capability_tier`` left out keeps the current tier."""
        opts = req.put(req.site_path(site_id), req.site_body(name, capability_tier))
        return self._one(opts, Site, options)

    def delete(self, site_id: str, **options: Unpack[RequestOverrides]) -> None:
        self._none(req.delete(req.site_path(site_id)), options)

    def list_enrollment_tokens(
        self,
        site_id: str,
        *,
        status: TokenStatus | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        offset: int | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> SyncPage[EnrollmentToken]:
        params = req.list_params(limit, offset, **req.token_filters(status))
        path = req.site_path(site_id, "/enrollment-tokens")
        return self._list(path, EnrollmentToken, params, options)

    def create_enrollment_token(
        self,
        site_id: str,
        *,
        description: str | NotGiven | None = NOT_GIVEN,
        expires_in_seconds: int | NotGiven | None = NOT_GIVEN,
        max_uses: int | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> EnrollmentTokenCreated:
        """A token for the site's agents, shown this once in ``.token``."""
        body = req.token_body(description, expires_in_seconds, max_uses)
        opts = req.post(req.site_path(site_id, "/enrollment-tokens"), body)
        return self._one(opts, EnrollmentTokenCreated, options)

    def get_enrollment_token(
        self, site_id: str, token_id: str, **options: Unpack[RequestOverrides]
    ) -> EnrollmentToken:
        return self._one(req.get(req.token_path(site_id, token_id)), EnrollmentToken, options)

    def revoke_enrollment_token(
        self, site_id: str, token_id: str, **options: Unpack[RequestOverrides]
    ) -> EnrollmentToken:
        """Revoke the token (a revoked one answers the same record: safe to repeat)."""
        opts = req.revoke(req.token_path(site_id, token_id, "/revoke"))
        return self._one(opts, EnrollmentToken, options)

    @functools.cached_property
    def with_raw_response(self) -> SitesWithRawResponse:
        """The same methods, answering an ``APIResponse`` of what they return."""
        return SitesWithRawResponse(self)


class AsyncSites(AsyncResource):
    def list(
        self,
        *,
        limit: int | NotGiven | None = NOT_GIVEN,
        offset: int | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> AsyncPageRequest[Site]:
        """``await`` it for the first page, or ``async for`` over every site."""
        return self._list(SITES, Site, req.list_params(limit, offset), options)

    async def get(self, site_id: str, **options: Unpack[RequestOverrides]) -> Site:
        return await self._one(req.get(req.site_path(site_id)), Site, options)

    async def create(
        self,
        *,
        name: str,
        capability_tier: CapabilityTier | NotGiven | None = NOT_GIVEN,
        partner_id: str | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> Site:
        body = req.site_body(name, capability_tier, partner_id)
        return await self._one(req.post(SITES, body), Site, options)

    async def update(
        self,
        site_id: str,
        *,
        name: str,
        capability_tier: CapabilityTier | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> Site:
        opts = req.put(req.site_path(site_id), req.site_body(name, capability_tier))
        return await self._one(opts, Site, options)

    async def delete(self, site_id: str, **options: Unpack[RequestOverrides]) -> None:
        await self._none(req.delete(req.site_path(site_id)), options)

    def list_enrollment_tokens(
        self,
        site_id: str,
        *,
        status: TokenStatus | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        offset: int | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> AsyncPageRequest[EnrollmentToken]:
        params = req.list_params(limit, offset, **req.token_filters(status))
        path = req.site_path(site_id, "/enrollment-tokens")
        return self._list(path, EnrollmentToken, params, options)

    async def create_enrollment_token(
        self,
        site_id: str,
        *,
        description: str | NotGiven | None = NOT_GIVEN,
        expires_in_seconds: int | NotGiven | None = NOT_GIVEN,
        max_uses: int | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> EnrollmentTokenCreated:
        body = req.token_body(description, expires_in_seconds, max_uses)
        opts = req.post(req.site_path(site_id, "/enrollment-tokens"), body)
        return await self._one(opts, EnrollmentTokenCreated, options)

    async def get_enrollment_token(
        self, site_id: str, token_id: str, **options: Unpack[RequestOverrides]
    ) -> EnrollmentToken:
        opts = req.get(req.token_path(site_id, token_id))
        return await self._one(opts, EnrollmentToken, options)

    async def revoke_enrollment_token(
        self, site_id: str, token_id: str, **options: Unpack[RequestOverrides]
    ) -> EnrollmentToken:
        opts = req.revoke(req.token_path(site_id, token_id, "/revoke"))
        return await self._one(opts, EnrollmentToken, options)

    @functools.cached_property
    def with_raw_response(self) -> AsyncSitesWithRawResponse:
        return AsyncSitesWithRawResponse(self)


class SitesWithRawResponse:
    def __init__(self, sites: Sites) -> None:
        self.list = to_raw_response_wrapper(sites.list)
        self.get = to_raw_response_wrapper(sites.get)
        self.create = to_raw_response_wrapper(sites.create)
        self.update = to_raw_response_wrapper(sites.update)
        self.delete = to_raw_response_wrapper(sites.delete)
        self.list_enrollment_tokens = to_raw_response_wrapper(sites.list_enrollment_tokens)
        self.create_enrollment_token = to_raw_response_wrapper(sites.create_enrollment_token)
        self.get_enrollment_token = to_raw_response_wrapper(sites.get_enrollment_token)
        self.revoke_enrollment_token = to_raw_response_wrapper(sites.revoke_enrollment_token)


class AsyncSitesWithRawResponse:
    def __init__(self, sites: AsyncSites) -> None:
        self.list = async_to_raw_response_wrapper(sites.list)
        self.get = async_to_raw_response_wrapper(sites.get)
        self.create = async_to_raw_response_wrapper(sites.create)
        self.update = async_to_raw_response_wrapper(sites.update)
        self.delete = async_to_raw_response_wrapper(sites.delete)
        self.list_enrollment_tokens = async_to_raw_response_wrapper(sites.list_enrollment_tokens)
        self.create_enrollment_token = async_to_raw_response_wrapper(sites.create_enrollment_token)
        self.get_enrollment_token = async_to_raw_response_wrapper(sites.get_enrollment_token)
        self.revoke_enrollment_token = async_to_raw_response_wrapper(sites.revoke_enrollment_token)
