"""The device gateway API, assembled: its stores, guard, live events, sockets
and routes over the server's shared services; and its once-a-second work."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.routing import BaseRoute, Route, WebSocketRoute

from .._services import Services
from ._auth import Guard, customer_verifier
from ._customer_routes import CustomerRoutes
from ._device_routes import DeviceRoutes
from ._devices import DeviceStore
from ._events import Hub, LiveEvents
from ._ops_routes import OpsRoutes
from ._queue import PendingCounts, QueueStore
from ._sessions import SessionStore
from ._sockets import Sockets
from ._telemetry import Telemetry

__all__ = ["DeviceGateway"]

log = logging.getLogger("gateway_server")


class DeviceGateway:
    def __init__(self, services: Services) -> None:
        self.services = services
        settings, clock, database = services.settings, services.clock, services.database
        pending = PendingCounts()
        self.telemetry = Telemetry(database, clock)
        self.devices = DeviceStore(database, settings, clock, self.telemetry, services.broker)
        self.queue = QueueStore(database, settings, clock, pending)
        self.sessions = SessionStore(database, settings, clock, self.devices, pending)
        self.verifier = customer_verifier(settings, clock)
        self.guard = Guard(settings, clock, self.devices, self.verifier, services.limits)
        self.hub = Hub(services.broker)
        self.events = LiveEvents(services.broker, self.sessions, self.queue, self.hub, clock)
        self._device_routes = DeviceRoutes(self)
        self._sockets = Sockets(self).routes()

    def fast_routes(self) -> list[Route]:
        """The device request loop, served by the edge's fast lane (and listed in
        :meth:`routes` as every route is)."""
        return self._device_routes.request_loop()

    def socket_routes(self) -> list[WebSocketRoute]:
        """The WebSocket routes, which the edge's fast lane serves too (a socket
        keeps a frame of every layer it passes through for as long as it lives)."""
        return self._sockets

    def routes(self, fast: list[Route]) -> list[BaseRoute]:
        return [
            *fast,
            *self._device_routes.routes(),
            *CustomerRoutes(self).routes(),
            *self._sockets,
            *OpsRoutes(self).routes(),
        ]

    async def every_second(self) -> None:
        """Once a second: write buffered heartbeats, close the sockets whose
        credentials expired, and announce claims that ran out."""
        now = self.services.clock
        scanned = now()
        while True:
            await asyncio.sleep(1.0)
            try:
                await self.telemetry.flush()
            except Exception:
                log.exception("writing heartbeats failed; retrying in a second")
            await self.hub.close_expired(now())
            try:
                until = now()
                await self.events.claims_run_out(scanned, until)
                scanned = until
            except Exception:
                log.exception("looking for claims that ran out failed; retrying in a second")

    async def close_sockets(self) -> None:
        """Close every open socket with 1001 (going away)."""
        await self.hub.close_all(1001)

    async def stop(self) -> None:
        """Keep what is buffered, then close the sockets."""
        with contextlib.suppress(Exception):
            await self.telemetry.flush()
        await self.close_sockets()
