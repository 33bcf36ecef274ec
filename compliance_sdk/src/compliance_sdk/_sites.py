"""Sites and their enrollment tokens, and the fleet (agents and each site's
overview): the sync/async pairs over :mod:`._requests`."""

from __future__ import annotations

from sdk_core import AsyncPaginator, SyncPaginator

from . import _requests as req
from ._models import (
    Agent,
    CapabilityTier,
    EnrollmentToken,
    EnrollmentTokenCreated,
    FleetSiteOverview,
    FleetSiteSummary,
    Site,
)
from ._resource import Async, Sync

__all__ = ["AsyncFleet", "AsyncSites", "Fleet", "Sites"]


# ============================================================================== sites
class Sites(Sync):
    def list(self, *, limit: int | None = None) -> SyncPaginator[Site]:
        """Every site of the partner, by name (``limit`` per page)."""
        return self._paginate("/api/sites", Site, req.list_params(limit))

    def get(self, site_id: str) -> Site:
        return self._one(req.get(req.site_path(site_id)), Site)

    def create(self, *, name: str, capability_tier: CapabilityTier | None = None) -> Site:
        return self._one(req.post("/api/sites", req.site_body(name, capability_tier)), Site)

    def update(
        self, site_id: str, *, name: str, capability_tier: CapabilityTier | None = None
    ) -> Site:
        opts = req.put(req.site_path(site_id), req.site_body(name, capability_tier))
        return self._one(opts, Site)

    def delete(self, site_id: str) -> None:
        self._none(req.delete(req.site_path(site_id)))

    def list_enrollment_tokens(
        self, site_id: str, *, status: str | None = None, limit: int | None = None
    ) -> SyncPaginator[EnrollmentToken]:
        params = req.list_params(limit, **req.token_filters(status))
        return self._paginate(req.site_path(site_id, "/enrollment-tokens"), EnrollmentToken, params)

    def create_enrollment_token(
        self,
        site_id: str,
        *,
        description: str | None = None,
        expires_in_seconds: int | None = None,
        max_uses: int | None = None,
    ) -> EnrollmentTokenCreated:
        body = req.token_body(description, expires_in_seconds, max_uses)
        opts = req.post(req.site_path(site_id, "/enrollment-tokens"), body)
        return self._one(opts, EnrollmentTokenCreated)

    def get_enrollment_token(self, site_id: str, token_id: str) -> EnrollmentToken:
        return self._one(req.get(req.token_path(site_id, token_id)), EnrollmentToken)

    def revoke_enrollment_token(self, site_id: str, token_id: str) -> EnrollmentToken:
        return self._one(req.post(req.token_path(site_id, token_id, "/revoke")), EnrollmentToken)


class AsyncSites(Async):
    def list(self, *, limit: int | None = None) -> AsyncPaginator[Site]:
        return self._paginate("/api/sites", Site, req.list_params(limit))

    async def get(self, site_id: str) -> Site:
        return await self._one(req.get(req.site_path(site_id)), Site)

    async def create(self, *, name: str, capability_tier: CapabilityTier | None = None) -> Site:
        return await self._one(req.post("/api/sites", req.site_body(name, capability_tier)), Site)

    async def update(
        self, site_id: str, *, name: str, capability_tier: CapabilityTier | None = None
    ) -> Site:
        opts = req.put(req.site_path(site_id), req.site_body(name, capability_tier))
        return await self._one(opts, Site)

    async def delete(self, site_id: str) -> None:
        await self._none(req.delete(req.site_path(site_id)))

    def list_enrollment_tokens(
        self, site_id: str, *, status: str | None = None, limit: int | None = None
    ) -> AsyncPaginator[EnrollmentToken]:
        params = req.list_params(limit, **req.token_filters(status))
        return self._paginate(req.site_path(site_id, "/enrollment-tokens"), EnrollmentToken, params)

    async def create_enrollment_token(
        self,
        site_id: str,
        *,
        description: str | None = None,
        expires_in_seconds: int | None = None,
        max_uses: int | None = None,
    ) -> EnrollmentTokenCreated:
        body = req.token_body(description, expires_in_seconds, max_uses)
        opts = req.post(req.site_path(site_id, "/enrollment-tokens"), body)
        return await self._one(opts, EnrollmentTokenCreated)

    async def get_enrollment_token(self, site_id: str, token_id: str) -> EnrollmentToken:
        return await self._one(req.get(req.token_path(site_id, token_id)), EnrollmentToken)

    async def revoke_enrollment_token(self, site_id: str, token_id: str) -> EnrollmentToken:
        opts = req.post(req.token_path(site_id, token_id, "/revoke"))
        return await self._one(opts, EnrollmentToken)


# ============================================================================== fleet
class Fleet(Sync):
    def list(self, *, limit: int | None = None) -> SyncPaginator[FleetSiteSummary]:
        """One summary per site, by site name."""
        return self._paginate("/api/fleet", FleetSiteSummary, req.list_params(limit))

    def site(self, site_id: str) -> FleetSiteOverview:
        opts = req.get(req.path("/api/fleet/sites", site_id, "site_id"))
        return self._one(opts, FleetSiteOverview)

    def agents(
        self, site_id: str, *, status: str | None = None, limit: int | None = None
    ) -> SyncPaginator[Agent]:
        path = req.path("/api/fleet/sites", site_id, "site_id", "/agents")
        return self._paginate(path, Agent, req.list_params(limit, **req.agent_filters(status)))

    def agent(self, agent_id: str) -> Agent:
        return self._one(req.get(req.path("/api/fleet/agents", agent_id, "agent_id")), Agent)

    def revoke_agent(self, agent_id: str) -> Agent:
        opts = req.post(req.path("/api/fleet/agents", agent_id, "agent_id", "/revoke"))
        return self._one(opts, Agent)


class AsyncFleet(Async):
    def list(self, *, limit: int | None = None) -> AsyncPaginator[FleetSiteSummary]:
        return self._paginate("/api/fleet", FleetSiteSummary, req.list_params(limit))

    async def site(self, site_id: str) -> FleetSiteOverview:
        opts = req.get(req.path("/api/fleet/sites", site_id, "site_id"))
        return await self._one(opts, FleetSiteOverview)

    def agents(
        self, site_id: str, *, status: str | None = None, limit: int | None = None
    ) -> AsyncPaginator[Agent]:
        path = req.path("/api/fleet/sites", site_id, "site_id", "/agents")
        return self._paginate(path, Agent, req.list_params(limit, **req.agent_filters(status)))

    async def agent(self, agent_id: str) -> Agent:
        return await self._one(req.get(req.path("/api/fleet/agents", agent_id, "agent_id")), Agent)

    async def revoke_agent(self, agent_id: str) -> Agent:
        opts = req.post(req.path("/api/fleet/agents", agent_id, "agent_id", "/revoke"))
        return await self._one(opts, Agent)
