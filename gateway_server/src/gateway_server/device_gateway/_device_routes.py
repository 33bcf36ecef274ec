"""Routes for devices: register, authenticate, heartbeat, and the queue
(claim, extend, result). The first four of the request loop go through the
edge's fast lane."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .._errors import NotFound, Unauthenticated
from ..edge import JSONResponse, known_query, ok, path_id, read_json
from ._errors import InvalidDeviceCredentials
from ._schemas import AuthBody, ClaimBody, ExtendBody, HeartbeatBody, RegisterBody, ResultBody
from ._views import claimed_json, iso, registered_json

if TYPE_CHECKING:
    from ._api import DeviceGateway

__all__ = ["DeviceRoutes"]


class DeviceRoutes:
    def __init__(self, api: DeviceGateway) -> None:
        self.api = api
        self.settings = api.services.settings
        self.limit = self.settings.max_body_bytes

    def request_loop(self) -> list[Route]:
        """What a working device calls many times a second (the fast lane's routes)."""
        return [
            Route("/api/v1/device/commands/claim", self.claim, methods=["POST"]),
            Route("/api/v1/device/commands/{id}/result", self.result, methods=["POST"]),
            Route("/api/v1/device/heartbeat", self.heartbeat, methods=["POST"]),
            Route("/api/v1/device/commands/{id}/extend", self.extend, methods=["POST"]),
        ]

    def routes(self) -> list[Route]:
        return [
            Route("/api/v1/device/register", self.register, methods=["POST"]),
            Route("/api/v1/device/auth", self.auth, methods=["POST"]),
        ]

    async def register(self, request: Request) -> Response:
        known_query(request)
        body = await read_json(request, RegisterBody, self.limit)
        metadata = body.metadata.model_dump(exclude_none=True) if body.metadata else None
        try:
            row, secret, when = await self.api.devices.register(
                body.deviceId, body.activationCode, metadata
            )
        except (Unauthenticated, NotFound) as exc:  # a wrong or expired code, an unknown id
            raise await self.api.guard.failed(request, body.deviceId, exc) from None
        await self.api.events.device_status(
            body.deviceId, {"deviceId": body.deviceId, "status": "registered"}
        )
        device = registered_json(body.deviceId, row.customer_id, when)
        return JSONResponse({"success": True, "device": device, "deviceSecret": secret})

    async def auth(self, request: Request) -> Response:
        known_query(request)
        body = await read_json(request, AuthBody, self.limit)
        try:
            token, ttl = await self.api.devices.authenticate(body.deviceId, body.deviceSecret)
        except InvalidDeviceCredentials as exc:
            raise await self.api.guard.failed(request, body.deviceId, exc) from None
        return JSONResponse({"token": token, "expiresIn": ttl, "deviceId": body.deviceId})

    async def heartbeat(self, request: Request) -> Response:
        device_id, _ = await self.api.guard.device(request)
        known_query(request)
        body = await read_json(request, HeartbeatBody, self.limit)
        metrics = body.metrics.model_dump() if body.metrics else None
        self.api.telemetry.record(device_id, body.status, metrics, body.diagnostics)
        pending = await self.api.queue.pending_count(device_id)
        await self.api.events.device_status(
            device_id,
            {
                "deviceId": device_id,
                "status": body.status,
                "metrics": metrics,
                "pendingCommands": pending,
            },
        )
        interval = self.settings.heartbeat_interval_ms
        return ok(request, {"success": True, "nextHeartbeat": interval, "pendingCommands": pending})

    async def claim(self, request: Request) -> Response:
        device_id, _ = await self.api.guard.device(request)
        known_query(request)
        body = await read_json(request, ClaimBody, self.limit, optional=True)
        visibility = body.visibilityTimeout or self.settings.default_visibility_ms
        claimed, dead = await self.api.queue.claim(device_id, body.limit, visibility)
        for command_id in (*dead, *(c.id for c in claimed)):
            await self.api.events.command_changed(command_id, device_id)
        return ok(request, {"commands": [claimed_json(c) for c in claimed]})

    async def extend(self, request: Request) -> Response:
        device_id, _ = await self.api.guard.device(request)
        known_query(request)
        command_id = path_id(request)
        body = await read_json(request, ExtendBody, self.limit)
        until = await self.api.queue.extend(
            device_id, command_id, body.claimToken, body.extensionMs
        )
        return ok(request, {"success": True, "visibleUntil": iso(until)})

    async def result(self, request: Request) -> Response:
        device_id, _ = await self.api.guard.device(request)
        known_query(request)
        command_id = path_id(request)
        body = await read_json(request, ResultBody, self.limit)
        done = await self.api.queue.complete(
            device_id, command_id, body.claimToken, body.model_dump()
        )
        if not done.replayed:
            await self.api.events.command_changed(command_id, device_id)
        answer: dict[str, object] = {"success": True}
        if done.next_command:
            answer["nextCommand"] = {"id": done.next_command}
        return ok(request, answer)
