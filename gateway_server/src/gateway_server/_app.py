"""The application factory: shared services, each API mounted, the lifespan.

Thin on purpose (as Starlette's own ``applications.py``): what a request
does is in the API subpackages (``device_gateway/``, and beside it the next
API), what every API shares is in the layers (``edge/``, ``storage/``,
``security/``, ``events/``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.types import ASGIApp

from ._schema import upgrade
from ._services import Services
from ._settings import Settings
from .compliance import Compliance
from .device_gateway import DeviceGateway
from .edge import Edge, FastLane, exception_handlers
from .emulators import Emulators
from .events import Broker

__all__ = ["GatewayApp", "create_app"]


class GatewayApp(Starlette):
    """The server as an ASGI app, with its services and APIs typed."""

    services: Services
    device_gateway: DeviceGateway
    compliance: Compliance
    emulators: Emulators

    def build_middleware_stack(self) -> ASGIApp:
        # The edge outside even Starlette's server-error middleware, so that its
        # 500 answer too carries a request id and gets an access-log line.
        return Edge(super().build_middleware_stack())

    async def close_sockets(self) -> None:
        """Close every open WebSocket with 1001 (the first step of a shutdown)."""
        await self.device_gateway.close_sockets()


def create_app(
    settings: Settings | None = None,
    *,
    clock: Callable[[], float] | None = None,
    broker: Broker | None = None,
    build: str = "dev",
) -> GatewayApp:
    """The server as an ASGI app. It opens its database (and migrates it) on startup."""
    settings = (settings or Settings()).with_generated_secret()
    services = Services.create(settings, clock=clock, broker=broker, build=build)
    gateway = DeviceGateway(services)
    compliance = Compliance(services)
    emulators = Emulators(services)  # none unless the settings name some (--emulate)
    fast = gateway.fast_routes()

    running = False

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # One run at a time: the services (the SQLite connection, the caches,
        # the background tasks) belong to one event loop. A second run while
        # the first lives (two TestClients entered on one app) would share them
        # across threads; it is refused instead. Run after run is fine.
        nonlocal running
        if running:
            raise RuntimeError("this app is already running: make another with create_app")
        running = True
        services.prepare_storage()
        try:
            await upgrade(services.database.engine)
            await services.start_shared()
            await compliance.start_listeners()
            background = [
                asyncio.create_task(gateway.every_second()),
                asyncio.create_task(compliance.deliver_escalations()),
            ]
            try:
                yield
            finally:
                for task in background:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                await gateway.stop()
                await compliance.stop()
                await emulators.stop()
                await services.close_shared()
                await services.database.close()
        finally:
            running = False

    app = GatewayApp(
        routes=[*compliance.routes(), *gateway.routes(fast), *emulators.routes()],
        lifespan=lifespan,
        exception_handlers=exception_handlers([compliance.error_format]),
    )
    app.services = services
    app.device_gateway = gateway
    app.compliance = compliance
    app.emulators = emulators
    app.add_middleware(FastLane, routes=fast, sockets=gateway.socket_routes())
    return app
