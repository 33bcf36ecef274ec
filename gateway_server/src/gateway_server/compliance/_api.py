"""The compliance platform, assembled: its stores, guard, CA, and routes over
the server's shared services; its error format; its background work (the
escalation deliveries)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx
from starlette.routing import BaseRoute

from .._services import Services
from ..edge import ErrorFormat, FailureBudget, docs_routes, load_contract
from ..security import Cipher, Passwords, load_key
from ._auth import Guard
from ._auth_routes import AuthRoutes
from ._ca import AgentCA
from ._channel import Channel
from ._errors import render
from ._escalations import EscalationStore
from ._fleet import FleetStore
from ._incident_routes import IncidentRoutes
from ._incidents import IncidentService, IncidentStore
from ._integration_routes import IntegrationRoutes
from ._integrations import IntegrationStore
from ._listeners import Listeners
from ._routing import Prefixed, grouped
from ._runbooks import LearningStore, RunbookStore
from ._site_routes import SiteRoutes
from ._sites import SiteStore
from ._users import UserStore

__all__ = ["CONTRACT", "Compliance"]

log = logging.getLogger("gateway_server.compliance")

CONTRACT = "compliance.openapi.yaml"
ROUTERS = (
    "/api/auth",
    "/api/sites",
    "/api/fleet",
    "/api/incidents",
    "/api/runbooks",
    "/api/learning",
    "/api/integrations",
    "/api/escalation",
)
"""The eight routers' prefixes: every answer under them is in this API's error format."""


class Compliance:
    def __init__(self, services: Services) -> None:
        self.services = services
        settings, clock, database = services.settings, services.clock, services.database
        self._http: httpx.AsyncClient | None = None
        passwords = Passwords(
            settings.compliance_password_memory_kib, settings.compliance_password_time_cost
        )
        self.users = UserStore(database, clock, passwords, services.broker)
        self.guard = Guard(settings, clock, self.users, services.limits)
        self.ca = AgentCA(settings.data_dir / "agent-ca", clock)
        self.sites = SiteStore(database, clock)
        self.fleet = FleetStore(database, clock, settings.compliance_check_interval)
        self.incidents = IncidentStore(database, clock)
        self.service = IncidentService(database, clock, settings.learning_min_successes)
        self.runbooks = RunbookStore(database)
        self.learning = LearningStore(database, clock, settings.learning_min_successes)
        key = load_key(settings.compliance_token_key, settings.data_dir, "compliance-token-key")
        self.integrations = IntegrationStore(database, settings, clock, Cipher(key), self.http)
        self.escalations = EscalationStore(database, settings, clock, self.http)
        self.error_format = ErrorFormat(ROUTERS, render)
        self.channel = Channel(database, clock, self.sites, self.fleet, self.service)
        enrollments = FailureBudget(
            settings.compliance_enrollment_failures_per_minute,
            clock,
            per_address=1,  # a token names no one: the address is all there is to count by
            limits=services.limits,
            name="enrollment-failures",
        )
        self.listeners = Listeners(settings, self.channel, self.ca, enrollments)

    def http(self) -> httpx.AsyncClient:
        """The client for the server's own outbound calls (OAuth, the webhook)."""
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.services.settings.oauth_timeout)
        return self._http

    def routes(self) -> list[BaseRoute]:
        operations = [
            *AuthRoutes(self).operations(),
            *SiteRoutes(self).operations(),
            *IncidentRoutes(self).operations(),
            *IntegrationRoutes(self).operations(),
        ]
        return [
            Prefixed(ROUTERS, grouped(operations)),
            *docs_routes(load_contract(CONTRACT), "Compliance platform API", "/compliance"),
        ]

    async def deliver_escalations(self) -> None:
        """Deliver what is due, when woken by a new notification or once a second."""
        store = self.escalations
        wake = store.wake = asyncio.Event()
        store.lock = asyncio.Lock()
        while True:
            # asyncio.timeout, not wait_for: on Python 3.11, cancelling a task
            # inside wait_for(event.wait()) can leave it waiting for ever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await wake.wait()
            wake.clear()
            try:
                await store.deliver_due()
            except Exception:
                log.exception("delivering escalations failed; retrying in a second")

    async def start_listeners(self) -> None:
        """The agent channel's gRPC listeners, when the settings enable them;
        their bound ports go to ``services.grpc_ports``."""
        if self.services.settings.grpc_enabled:
            self.services.grpc_ports.update(await self.listeners.start())

    async def stop(self) -> None:
        await self.listeners.stop(1.0)
        self.services.grpc_ports.clear()
        if self._http is not None:
            await self._http.aclose()
            self._http = None
