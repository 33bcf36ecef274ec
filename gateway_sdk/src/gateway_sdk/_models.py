"""Device gateway models (responses keep fields the server adds later)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

from pydantic import Field

from sdk_core import BaseModel

__all__ = [
    "ClaimedCommand",
    "CommandAvailable",
    "CommandUpdate",
    "CompleteResult",
    "ConfigUpdate",
    "Device",
    "DeviceStatus",
    "DeviceStatusEvent",
    "Health",
    "HeartbeatResult",
    "ProvisionedDevice",
    "Readiness",
    "RegisteredDevice",
    "Session",
    "SessionCommand",
    "SocketEvent",
    "SystemInfo",
]

DeviceState = Literal["online", "busy", "error"]
ResultStatus = Literal["success", "failure", "timeout"]
SessionType = Literal["diagnostic", "remediation"]


class RegisteredDevice(BaseModel):
    id: str
    status: str
    customer_id: str = Field(alias="customerId")
    registered_at: dt.datetime = Field(alias="registeredAt")


class HeartbeatResult(BaseModel):
    success: bool
    next_heartbeat: int = Field(alias="nextHeartbeat")
    """Milliseconds until the server expects the next heartbeat."""
    pending_commands: int | None = Field(default=None, alias="pendingCommands")


class ClaimedCommand(BaseModel):
    id: str
    type: str
    parameters: Any = None
    priority: int = 0
    claim_token: str = Field(alias="claimToken", repr=False)
    visible_until: dt.datetime = Field(alias="visibleUntil")


class CompleteResult(BaseModel):
    success: bool
    next_command_id: str | None = None

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> CompleteResult:
        nxt = data.get("nextCommand")
        return cls(
            success=bool(data.get("success")),
            next_command_id=nxt.get("id") if isinstance(nxt, dict) else None,
        )


class Device(BaseModel):
    id: str
    name: str
    status: str
    last_seen: dt.datetime | None = Field(default=None, alias="lastSeen")
    location: str | None = None


class DeviceStatus(BaseModel):
    id: str
    status: str
    last_heartbeat: dt.datetime | None = Field(default=None, alias="lastHeartbeat")
    metrics: Any = None
    diagnostics: Any = None
    active_session: str | None = Field(default=None, alias="activeSession")
    dead_letter_commands: int = Field(default=0, alias="deadLetterCommands")


class ProvisionedDevice(BaseModel):
    id: str
    activation_code: str = Field(alias="activationCode", repr=False)
    expires_at: dt.datetime = Field(alias="expiresAt")
    instructions: str | None = None


class SessionCommand(BaseModel):
    id: str
    type: str
    status: str
    priority: int | None = None
    result: Any = None
    claim_count: int | None = Field(default=None, alias="claimCount")
    created_at: dt.datetime | None = Field(default=None, alias="createdAt")


class Session(BaseModel):
    id: str
    device_id: str | None = Field(default=None, alias="deviceId")
    type: str | None = None
    status: str
    created_at: dt.datetime = Field(alias="createdAt")
    expires_at: dt.datetime | None = Field(default=None, alias="expiresAt")
    commands: list[SessionCommand] = Field(default_factory=list)


class SystemInfo(BaseModel):
    version: str
    build: str
    environment: str
    uptime: float
    services: dict[str, Any]


class Health(BaseModel):
    """``GET /healthz``: the process is up."""

    status: str
    timestamp: dt.datetime


class Readiness(BaseModel):
    """``GET /readyz``: every dependency checked (a 503 answer is ``ready=False``)."""

    ready: bool
    checks: dict[str, bool]
    errors: list[str] = Field(default_factory=list)


class SocketEvent(BaseModel):
    """Any message from a gateway socket (``type`` and ``data``)."""

    type: str
    data: Any = None


class DeviceStatusEvent(SocketEvent):
    type: Literal["device_status"] = "device_status"

    @property
    def device_id(self) -> str | None:
        return self.data.get("deviceId") if isinstance(self.data, dict) else None


class CommandUpdate(SocketEvent):
    type: Literal["command_update"] = "command_update"

    @property
    def command_id(self) -> str | None:
        return self.data.get("id") if isinstance(self.data, dict) else None

    @property
    def status(self) -> str | None:
        return self.data.get("status") if isinstance(self.data, dict) else None


class CommandAvailable(SocketEvent):
    """A command became claimable for this device: claim it over REST."""

    type: Literal["command"] = "command"


class ConfigUpdate(SocketEvent):
    """New configuration for this device (``/ws/device``); the document leaves
    its ``data`` open, so it is kept as sent (``config`` when it is an object)."""

    type: Literal["config_update"] = "config_update"

    @property
    def config(self) -> dict[str, Any]:
        return dict(self.data) if isinstance(self.data, dict) else {}


_EVENTS: dict[str, type[SocketEvent]] = {
    "device_status": DeviceStatusEvent,
    "command_update": CommandUpdate,
    "command": CommandAvailable,
    "config_update": ConfigUpdate,
}


def parse_socket_event(raw: str | bytes) -> SocketEvent:
    data = json.loads(raw)
    kind = data.get("type") if isinstance(data, dict) else None
    cls = _EVENTS.get(kind, SocketEvent) if isinstance(kind, str) else SocketEvent
    return cls.model_validate(data)
