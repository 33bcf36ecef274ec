"""The compliance resources, in sync/async pairs over :mod:`._requests`:
each method builds its request there (validated, I/O-free) and the pair
only sends it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast

from sdk_core import (
    AsyncAPIResource,
    AsyncPaginator,
    RequestOptions,
    SyncAPIResource,
    SyncPaginator,
)

from . import _requests as req
from ._models import (
    Agent,
    CapabilityTier,
    CheckType,
    Connector,
    DeliveryStatus,
    EnrollmentToken,
    EnrollmentTokenCreated,
    EscalationNotification,
    FleetSiteOverview,
    FleetSiteSummary,
    Incident,
    IncidentDetail,
    LearningCandidate,
    ListEnvelope,
    OAuthAuthorization,
    Priority,
    Runbook,
    RunbookExecution,
    RunbookLevel,
    Severity,
    Site,
)

if TYPE_CHECKING:
    from ._client import AsyncComplianceClient, ComplianceClient

__all__ = [
    "AsyncEscalations",
    "AsyncFleet",
    "AsyncIncidents",
    "AsyncIntegrations",
    "AsyncLearning",
    "AsyncRunbooks",
    "AsyncSites",
    "Escalations",
    "Fleet",
    "Incidents",
    "Integrations",
    "Learning",
    "Runbooks",
    "Sites",
]

M = TypeVar("M")
INCIDENTS, RUNBOOKS, CANDIDATES = "/api/incidents", "/api/runbooks", "/api/learning/candidates"
CONNECTORS, NOTIFICATIONS = "/api/integrations/connectors", "/api/escalation/notifications"


class _Sync(SyncAPIResource):
    _client: ComplianceClient

    def _one(self, opts: RequestOptions, model: type[M]) -> M:
        return cast(M, self._client.request_raw(opts, model).parsed)

    def _none(self, opts: RequestOptions) -> None:
        self._client.request_raw(opts, None)

    def _paginate(self, path: str, model: type[M], params: dict[str, Any]) -> SyncPaginator[M]:
        def fetch(page_params: dict[str, Any]) -> Any:
            raw = self._client.request_raw(req.get(path, page_params), ListEnvelope[model])  # type: ignore[valid-type]
            return req.to_page(raw)

        return SyncPaginator(fetch, req.PAGINATION, params)


class _Async(AsyncAPIResource):
    _client: AsyncComplianceClient

    async def _one(self, opts: RequestOptions, model: type[M]) -> M:
        return cast(M, (await self._client.request_raw(opts, model)).parsed)

    async def _none(self, opts: RequestOptions) -> None:
        await self._client.request_raw(opts, None)

    def _paginate(self, path: str, model: type[M], params: dict[str, Any]) -> AsyncPaginator[M]:
        async def fetch(page_params: dict[str, Any]) -> Any:
            raw = await self._client.request_raw(req.get(path, page_params), ListEnvelope[model])  # type: ignore[valid-type]
            return req.to_page(raw)

        return AsyncPaginator(fetch, req.PAGINATION, params)


# ============================================================================== sites
class Sites(_Sync):
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


class AsyncSites(_Async):
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
class Fleet(_Sync):
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


class AsyncFleet(_Async):
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


# ========================================================================== incidents
class Incidents(_Sync):
    def list(
        self,
        *,
        site_id: str | None = None,
        severity: Severity | None = None,
        resolved: bool | None = None,
        check_type: CheckType | None = None,
        limit: int | None = None,
    ) -> SyncPaginator[Incident]:
        """Incidents across every page, newest first, filtered; ``.first_page().total``
        counts every match."""
        filters = req.incident_filters(site_id, severity, resolved, check_type)
        return self._paginate(INCIDENTS, Incident, req.list_params(limit, **filters))

    def get(self, incident_id: str) -> IncidentDetail:
        return self._one(req.get(req.path(INCIDENTS, incident_id, "incident_id")), IncidentDetail)

    def resolve(self, incident_id: str, *, note: str | None = None) -> IncidentDetail:
        opts = req.post(
            req.path(INCIDENTS, incident_id, "incident_id", "/resolve"), req.note_body("note", note)
        )
        return self._one(opts, IncidentDetail)


class AsyncIncidents(_Async):
    def list(
        self,
        *,
        site_id: str | None = None,
        severity: Severity | None = None,
        resolved: bool | None = None,
        check_type: CheckType | None = None,
        limit: int | None = None,
    ) -> AsyncPaginator[Incident]:
        filters = req.incident_filters(site_id, severity, resolved, check_type)
        return self._paginate(INCIDENTS, Incident, req.list_params(limit, **filters))

    async def get(self, incident_id: str) -> IncidentDetail:
        opts = req.get(req.path(INCIDENTS, incident_id, "incident_id"))
        return await self._one(opts, IncidentDetail)

    async def resolve(self, incident_id: str, *, note: str | None = None) -> IncidentDetail:
        opts = req.post(
            req.path(INCIDENTS, incident_id, "incident_id", "/resolve"), req.note_body("note", note)
        )
        return await self._one(opts, IncidentDetail)


# =========================================================================== runbooks
class Runbooks(_Sync):
    def list(
        self,
        *,
        check_type: CheckType | None = None,
        level: RunbookLevel | None = None,
        limit: int | None = None,
    ) -> SyncPaginator[Runbook]:
        params = req.list_params(limit, **req.runbook_filters(check_type, level))
        return self._paginate(RUNBOOKS, Runbook, params)

    def get(self, runbook_id: str) -> Runbook:
        return self._one(req.get(req.path(RUNBOOKS, runbook_id, "runbook_id")), Runbook)

    def executions(
        self,
        runbook_id: str,
        *,
        site_id: str | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> SyncPaginator[RunbookExecution]:
        path = req.path(RUNBOOKS, runbook_id, "runbook_id", "/executions")
        params = req.list_params(limit, **req.execution_filters(site_id, status))
        return self._paginate(path, RunbookExecution, params)


class AsyncRunbooks(_Async):
    def list(
        self,
        *,
        check_type: CheckType | None = None,
        level: RunbookLevel | None = None,
        limit: int | None = None,
    ) -> AsyncPaginator[Runbook]:
        params = req.list_params(limit, **req.runbook_filters(check_type, level))
        return self._paginate(RUNBOOKS, Runbook, params)

    async def get(self, runbook_id: str) -> Runbook:
        return await self._one(req.get(req.path(RUNBOOKS, runbook_id, "runbook_id")), Runbook)

    def executions(
        self,
        runbook_id: str,
        *,
        site_id: str | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> AsyncPaginator[RunbookExecution]:
        path = req.path(RUNBOOKS, runbook_id, "runbook_id", "/executions")
        params = req.list_params(limit, **req.execution_filters(site_id, status))
        return self._paginate(path, RunbookExecution, params)


# =========================================================================== learning
class Learning(_Sync):
    def list(
        self,
        *,
        site_id: str | None = None,
        check_type: CheckType | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> SyncPaginator[LearningCandidate]:
        params = req.list_params(limit, **req.candidate_filters(site_id, check_type, status))
        return self._paginate(CANDIDATES, LearningCandidate, params)

    def get(self, candidate_id: str) -> LearningCandidate:
        opts = req.get(req.path(CANDIDATES, candidate_id, "candidate_id"))
        return self._one(opts, LearningCandidate)

    def promote(
        self,
        candidate_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        is_disruptive: bool | None = None,
        severity: Severity | None = None,
    ) -> Runbook:
        body = req.promote_body(name, description, is_disruptive, severity)
        opts = req.post(req.path(CANDIDATES, candidate_id, "candidate_id", "/promote"), body)
        return self._one(opts, Runbook)

    def reject(self, candidate_id: str, *, reason: str | None = None) -> LearningCandidate:
        body = req.note_body("reason", reason)
        opts = req.post(req.path(CANDIDATES, candidate_id, "candidate_id", "/reject"), body)
        return self._one(opts, LearningCandidate)


class AsyncLearning(_Async):
    def list(
        self,
        *,
        site_id: str | None = None,
        check_type: CheckType | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> AsyncPaginator[LearningCandidate]:
        params = req.list_params(limit, **req.candidate_filters(site_id, check_type, status))
        return self._paginate(CANDIDATES, LearningCandidate, params)

    async def get(self, candidate_id: str) -> LearningCandidate:
        opts = req.get(req.path(CANDIDATES, candidate_id, "candidate_id"))
        return await self._one(opts, LearningCandidate)

    async def promote(
        self,
        candidate_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        is_disruptive: bool | None = None,
        severity: Severity | None = None,
    ) -> Runbook:
        body = req.promote_body(name, description, is_disruptive, severity)
        opts = req.post(req.path(CANDIDATES, candidate_id, "candidate_id", "/promote"), body)
        return await self._one(opts, Runbook)

    async def reject(self, candidate_id: str, *, reason: str | None = None) -> LearningCandidate:
        body = req.note_body("reason", reason)
        opts = req.post(req.path(CANDIDATES, candidate_id, "candidate_id", "/reject"), body)
        return await self._one(opts, LearningCandidate)


# ======================================================================= integrations
def _integration(site_id: str, suffix: str = "") -> str:
    return req.path("/api/integrations/sites", site_id, "site_id", suffix)


class Integrations(_Sync):
    def list(self, site_id: str, *, limit: int | None = None) -> SyncPaginator[Connector]:
        return self._paginate(_integration(site_id), Connector, req.list_params(limit))

    def start_oauth(
        self,
        site_id: str,
        *,
        provider: str,
        tenant_id: str | None = None,
        okta_domain: str | None = None,
    ) -> OAuthAuthorization:
        """The provider's authorization URL for the user's browser, and its state."""
        body = req.oauth_body(provider, tenant_id, okta_domain)
        return self._one(req.post(_integration(site_id), body), OAuthAuthorization)

    def complete_oauth(
        self, *, state: str, code: str | None = None, error: str | None = None
    ) -> Connector:
        """What the provider's redirect carries, handed to the callback."""
        params = req.callback_params(state, code, error)
        return self._one(req.get("/api/integrations/oauth/callback", params), Connector)

    def create_aws(self, site_id: str) -> Connector:
        return self._one(req.post(_integration(site_id, "/aws")), Connector)

    def set_aws_role(self, site_id: str, *, role_arn: str) -> Connector:
        opts = req.put(_integration(site_id, "/aws"), req.role_arn_body(role_arn))
        return self._one(opts, Connector)

    def get(self, connector_id: str) -> Connector:
        return self._one(req.get(req.path(CONNECTORS, connector_id, "connector_id")), Connector)

    def delete(self, connector_id: str) -> None:
        self._none(req.delete(req.path(CONNECTORS, connector_id, "connector_id")))


class AsyncIntegrations(_Async):
    def list(self, site_id: str, *, limit: int | None = None) -> AsyncPaginator[Connector]:
        return self._paginate(_integration(site_id), Connector, req.list_params(limit))

    async def start_oauth(
        self,
        site_id: str,
        *,
        provider: str,
        tenant_id: str | None = None,
        okta_domain: str | None = None,
    ) -> OAuthAuthorization:
        body = req.oauth_body(provider, tenant_id, okta_domain)
        return await self._one(req.post(_integration(site_id), body), OAuthAuthorization)

    async def complete_oauth(
        self, *, state: str, code: str | None = None, error: str | None = None
    ) -> Connector:
        params = req.callback_params(state, code, error)
        return await self._one(req.get("/api/integrations/oauth/callback", params), Connector)

    async def create_aws(self, site_id: str) -> Connector:
        return await self._one(req.post(_integration(site_id, "/aws")), Connector)

    async def set_aws_role(self, site_id: str, *, role_arn: str) -> Connector:
        opts = req.put(_integration(site_id, "/aws"), req.role_arn_body(role_arn))
        return await self._one(opts, Connector)

    async def get(self, connector_id: str) -> Connector:
        opts = req.get(req.path(CONNECTORS, connector_id, "connector_id"))
        return await self._one(opts, Connector)

    async def delete(self, connector_id: str) -> None:
        await self._none(req.delete(req.path(CONNECTORS, connector_id, "connector_id")))


# ======================================================================== escalations
class Escalations(_Sync):
    def list(
        self,
        *,
        site_id: str | None = None,
        delivery_status: DeliveryStatus | None = None,
        limit: int | None = None,
    ) -> SyncPaginator[EscalationNotification]:
        params = req.list_params(limit, **req.escalation_filters(site_id, delivery_status))
        return self._paginate(NOTIFICATIONS, EscalationNotification, params)

    def create(
        self,
        *,
        site_id: str,
        subject: str,
        message: str,
        incident_id: str | None = None,
        priority: Priority | None = None,
    ) -> EscalationNotification:
        body = req.escalation_body(site_id, subject, message, incident_id, priority)
        return self._one(req.post(NOTIFICATIONS, body), EscalationNotification)

    def get(self, notification_id: str) -> EscalationNotification:
        opts = req.get(req.path(NOTIFICATIONS, notification_id, "notification_id"))
        return self._one(opts, EscalationNotification)


class AsyncEscalations(_Async):
    def list(
        self,
        *,
        site_id: str | None = None,
        delivery_status: DeliveryStatus | None = None,
        limit: int | None = None,
    ) -> AsyncPaginator[EscalationNotification]:
        params = req.list_params(limit, **req.escalation_filters(site_id, delivery_status))
        return self._paginate(NOTIFICATIONS, EscalationNotification, params)

    async def create(
        self,
        *,
        site_id: str,
        subject: str,
        message: str,
        incident_id: str | None = None,
        priority: Priority | None = None,
    ) -> EscalationNotification:
        body = req.escalation_body(site_id, subject, message, incident_id, priority)
        return await self._one(req.post(NOTIFICATIONS, body), EscalationNotification)

    async def get(self, notification_id: str) -> EscalationNotification:
        opts = req.get(req.path(NOTIFICATIONS, notification_id, "notification_id"))
        return await self._one(opts, EscalationNotification)
