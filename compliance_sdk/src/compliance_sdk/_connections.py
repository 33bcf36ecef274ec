"""Cloud connectors (OAuth and AWS) and L3 escalations: the sync/async pairs
over :mod:`._requests`."""

from __future__ import annotations

from sdk_core import AsyncPaginator, SyncPaginator

from . import _requests as req
from ._models import (
    Connector,
    DeliveryStatus,
    EscalationNotification,
    OAuthAuthorization,
    Priority,
)
from ._resource import Async, Sync

__all__ = ["AsyncEscalations", "AsyncIntegrations", "Escalations", "Integrations"]

CONNECTORS, NOTIFICATIONS = "/api/integrations/connectors", "/api/escalation/notifications"


# ======================================================================= integrations
def _integration(site_id: str, suffix: str = "") -> str:
    return req.path("/api/integrations/sites", site_id, "site_id", suffix)


class Integrations(Sync):
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


class AsyncIntegrations(Async):
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
class Escalations(Sync):
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


class AsyncEscalations(Async):
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
