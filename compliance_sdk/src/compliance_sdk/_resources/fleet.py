"""``client.fleet``: each site's compliance overview and its agents."""

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
from .._models import Agent, AgentStatus, FleetSiteOverview, FleetSiteSummary
from ._base import AsyncResource, SyncResource

__all__ = ["AsyncFleet", "AsyncFleetWithRawResponse", "Fleet", "FleetWithRawResponse"]

FLEET, AGENTS = "/api/fleet", "/api/fleet/agents"


def _site(site_id: str, suffix: str = "") -> str:
    return req.path("/api/fleet/sites", site_id, "site_id", suffix)


class Fleet(SyncResource):
    def list(
        self,
        *,
        limit: int | NotGiven | None = NOT_GIVEN,
        offset: int | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> SyncPage[FleetSiteSummary]:
        """The first page of the fleet's lines, one a site, fetched now."""
        return self._list(FLEET, FleetSiteSummary, req.list_params(limit, offset), options)

    def site(self, site_id: str, **options: Unpack[RequestOverrides]) -> FleetSiteOverview:
        """The site's agents, compliance per check and RMM products."""
        return self._one(req.get(_site(site_id)), FleetSiteOverview, options)

    def agents(
        self,
        site_id: str,
        *,
        status: AgentStatus | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        offset: int | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> SyncPage[Agent]:
        params = req.list_params(limit, offset, **req.agent_filters(status))
        return self._list(_site(site_id, "/agents"), Agent, params, options)

    def agent(self, agent_id: str, **options: Unpack[RequestOverrides]) -> Agent:
        return self._one(req.get(req.path(AGENTS, agent_id, "agent_id")), Agent, options)

    def revoke_agent(self, agent_id: str, **options: Unpack[RequestOverrides]) -> Agent:
        """Refuse the agent's certificate from now on (safe to repeat)."""
        opts = req.revoke(req.path(AGENTS, agent_id, "agent_id", "/revoke"))
        return self._one(opts, Agent, options)

    @functools.cached_property
    def with_raw_response(self) -> FleetWithRawResponse:
        """The same methods, answering an ``APIResponse`` of what they return."""
        return FleetWithRawResponse(self)


class AsyncFleet(AsyncResource):
    def list(
        self,
        *,
        limit: int | NotGiven | None = NOT_GIVEN,
        offset: int | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> AsyncPageRequest[FleetSiteSummary]:
        """``await`` it for the first page, or ``async for`` over every line."""
        return self._list(FLEET, FleetSiteSummary, req.list_params(limit, offset), options)

    async def site(self, site_id: str, **options: Unpack[RequestOverrides]) -> FleetSiteOverview:
        return await self._one(req.get(_site(site_id)), FleetSiteOverview, options)

    def agents(
        self,
        site_id: str,
        *,
        status: AgentStatus | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        offset: int | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> AsyncPageRequest[Agent]:
        params = req.list_params(limit, offset, **req.agent_filters(status))
        return self._list(_site(site_id, "/agents"), Agent, params, options)

    async def agent(self, agent_id: str, **options: Unpack[RequestOverrides]) -> Agent:
        return await self._one(req.get(req.path(AGENTS, agent_id, "agent_id")), Agent, options)

    async def revoke_agent(self, agent_id: str, **options: Unpack[RequestOverrides]) -> Agent:
        opts = req.revoke(req.path(AGENTS, agent_id, "agent_id", "/revoke"))
        return await self._one(opts, Agent, options)

    @functools.cached_property
    def with_raw_response(self) -> AsyncFleetWithRawResponse:
        return AsyncFleetWithRawResponse(self)


class FleetWithRawResponse:
    def __init__(self, fleet: Fleet) -> None:
        self.list = to_raw_response_wrapper(fleet.list)
        self.site = to_raw_response_wrapper(fleet.site)
        self.agents = to_raw_response_wrapper(fleet.agents)
        self.agent = to_raw_response_wrapper(fleet.agent)
        self.revoke_agent = to_raw_response_wrapper(fleet.revoke_agent)


class AsyncFleetWithRawResponse:
    def __init__(self, fleet: AsyncFleet) -> None:
        self.list = async_to_raw_response_wrapper(fleet.list)
        self.site = async_to_raw_response_wrapper(fleet.site)
        self.agents = async_to_raw_response_wrapper(fleet.agents)
        self.agent = async_to_raw_response_wrapper(fleet.agent)
        self.revoke_agent = async_to_raw_response_wrapper(fleet.revoke_agent)
