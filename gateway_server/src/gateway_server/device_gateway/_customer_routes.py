"""Routes for customers: their devices (list, provision, status), sessions and
their commands (open, read, enqueue, approve), and the system information."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .._errors import InvalidInput
from .._version import __version__
from ..edge import known_query, ok, path_id, query_int, read_json
from ._rules import CommandState
from ._schemas import DEVICE_ID, ApproveBody, EnqueueBody, ProvisionBody, SessionBody
from ._views import (
    device_json,
    device_status_json,
    iso,
    new_command_json,
    notice,
    session_json,
)

if TYPE_CHECKING:
    from ._api import DeviceGateway

__all__ = ["CustomerRoutes"]


def _instructions(code_ttl: int) -> str:
    hours, minutes = divmod(code_ttl // 60, 60)
    lifetime = f"{hours} hours" if not minutes else f"{code_ttl // 60} minutes"
    return (
        "Give this one-time activation code to the device during setup: it registers "
        "with POST /api/v1/device/register and receives its device secret once. "
        f"The code expires in {lifetime}."
    )


class CustomerRoutes:
    def __init__(self, api: DeviceGateway) -> None:
        self.api = api
        self.settings = api.services.settings
        self.limit = self.settings.max_body_bytes
        self.now = api.services.clock
        self.instructions = _instructions(self.settings.activation_ttl)

    def routes(self) -> list[Route]:
        prefix = "/api/v1/customer"
        return [
            Route(f"{prefix}/devices", self.devices, methods=["GET"]),
            Route(f"{prefix}/devices/provision", self.provision, methods=["POST"]),
            Route(f"{prefix}/devices/{{id}}/status", self.device_status, methods=["GET"]),
            Route(f"{prefix}/sessions", self.open_session, methods=["POST"]),
            Route(f"{prefix}/sessions/{{id}}", self.session, methods=["GET"]),
            Route(f"{prefix}/sessions/{{id}}/commands", self.enqueue, methods=["POST"]),
            Route(f"{prefix}/sessions/{{id}}/approve", self.approve, methods=["POST"]),
            Route(f"{prefix}/system/info", self.system_info, methods=["GET"]),
        ]

    async def devices(self, request: Request) -> Response:
        customer = await self.api.guard.customer(request)
        known_query(request, "status", "limit", "offset")
        status = request.query_params.get("status", "all")
        if status not in ("online", "offline", "all"):
            raise InvalidInput("status: must be online, offline or all", {"field": "status"})
        limit = query_int(request, "limit", 50, 1, 200)
        offset = query_int(request, "offset", 0, 0, 1_000_000_000)
        rows, total = await self.api.devices.list_devices(customer, status, limit, offset)
        now, interval = self.now(), self.settings.heartbeat_interval_ms
        devices = [device_json(r, now, interval) for r in rows]
        return ok(request, {"devices": devices, "total": total})

    async def provision(self, request: Request) -> Response:
        customer = await self.api.guard.customer(request)
        known_query(request)
        body = await read_json(request, ProvisionBody, self.limit)
        code, expires = await self.api.devices.provision(
            customer, body.deviceId, body.name, body.location
        )
        device = {"id": body.deviceId, "activationCode": code, "expiresAt": iso(expires)}
        return ok(request, {"device": device, "instructions": self.instructions}, 201)

    async def device_status(self, request: Request) -> Response:
        customer = await self.api.guard.customer(request)
        known_query(request)
        device_id = path_id(request, DEVICE_ID)
        row, session, dead = await self.api.devices.device_status(customer, device_id)
        interval = self.settings.heartbeat_interval_ms
        device = device_status_json(row, session, dead, self.now(), interval)
        return ok(request, {"device": device})

    async def open_session(self, request: Request) -> Response:
        customer = await self.api.guard.customer(request)
        known_query(request)
        body = await read_json(request, SessionBody, self.limit)
        row = await self.api.sessions.create_session(
            customer, body.deviceId, body.type, body.description
        )
        return ok(request, {"session": session_json(row, None, self.now())}, 201)

    async def session(self, request: Request) -> Response:
        customer = await self.api.guard.customer(request)
        known_query(request, "limit", "offset")
        session_id = path_id(request)
        limit = query_int(request, "limit", 50, 1, 200)
        offset = query_int(request, "offset", 0, 0, 1_000_000_000)
        row, commands, total = await self.api.sessions.get_session(
            customer, session_id, limit, offset
        )
        return ok(request, {"session": session_json(row, commands, self.now(), total)})

    async def enqueue(self, request: Request) -> Response:
        customer = await self.api.guard.customer(request)
        known_query(request)
        session_id = path_id(request)
        body = await read_json(request, EnqueueBody, self.limit)
        command = await self.api.sessions.enqueue(
            customer, session_id, body.type, body.parameters, body.priority
        )
        answer = new_command_json(command)
        if command.claimable:
            await self.api.events.claimable(command.device_id, answer)
        await self.api.events.command_changed(command.id, command.device_id)
        return ok(request, {"command": answer}, 201)

    async def approve(self, request: Request) -> Response:
        customer = await self.api.guard.customer(request)
        known_query(request)
        session_id = path_id(request)
        body = await read_json(request, ApproveBody, self.limit)
        state, device_id = await self.api.sessions.approve(
            customer, session_id, body.commandId, body.approved, body.reason
        )
        if state == CommandState.PENDING:
            row = await self.api.sessions.command(body.commandId)
            if row is not None:
                await self.api.events.claimable(device_id, notice(row))
        await self.api.events.command_changed(body.commandId, device_id)
        status = "approved" if state == CommandState.PENDING else "rejected"
        return ok(request, {"success": True, "command": {"id": body.commandId, "status": status}})

    async def system_info(self, request: Request) -> Response:
        customer = await self.api.guard.customer(request)
        known_query(request)
        services = self.api.services
        return ok(
            request,
            {
                "version": __version__,
                "build": services.build,
                "environment": self.settings.environment,
                "uptime": round(time.monotonic() - services.started, 3),
                "services": {
                    "database": services.database.backend,
                    "broker": services.broker_name,
                    "websockets": self.api.hub.customers[customer],  # its own, no one else's
                    "websocketsTooSlow": self.api.hub.too_slow[f"customer {customer}"],
                },
            },
        )
