"""Routes for operations: liveness, readiness (every dependency checked now:
the database, and Redis when the server uses it),
the version, and the API's description (``/openapi.json``, ``/docs``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .._version import __version__
from ..edge import JSONResponse, docs_routes, load_contract
from ._views import iso

if TYPE_CHECKING:
    from ._api import DeviceGateway

__all__ = ["OpsRoutes"]

CONTRACT = "gateway.openapi.yaml"


class OpsRoutes:
    def __init__(self, api: DeviceGateway) -> None:
        self.services = api.services

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/healthz", self.healthz),
            Route("/readyz", self.readyz),
            Route("/version", self.version),
            *docs_routes(load_contract(CONTRACT), "Device gateway API"),
        ]

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "timestamp": iso(time.time())})

    async def readyz(self, request: Request) -> Response:
        probes: dict[str, Callable[[], Awaitable[object]]] = {
            "database": self.services.database.ping
        }
        if self.services.redis is not None:  # commands answered, and the topics heard
            probes["redis"] = self.services.broker.ping
        checks: dict[str, bool] = {}
        errors: list[str] = []
        for name, probe in probes.items():  # each checked now, none remembered
            try:
                await asyncio.wait_for(probe(), 5)
                checks[name] = True
            except Exception as exc:
                checks[name] = False
                errors.append(f"{name}: {type(exc).__name__}: {exc}")
        ready = all(checks.values())
        body: dict[str, Any] = {"ready": ready, "checks": checks}
        if errors:
            body["errors"] = errors
        return JSONResponse(body, status_code=200 if ready else 503)

    async def version(self, request: Request) -> Response:
        return JSONResponse({"version": __version__})
