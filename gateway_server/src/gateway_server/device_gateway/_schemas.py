"""Request bodies of the device gateway, exactly as contracts/gateway.openapi.yaml
states them: documented fields only, strict types, constraints as ``Annotated``
types (``edge/_schemas.py`` has the shared ones)."""

from __future__ import annotations

from typing import Annotated, Literal

import pydantic

from ..edge import Body, JsonInt, JsonValue, Timestamp, text

__all__ = [
    "DEVICE_ID",
    "ApproveBody",
    "AuthBody",
    "ClaimBody",
    "EnqueueBody",
    "ExtendBody",
    "HeartbeatBody",
    "ProvisionBody",
    "RegisterBody",
    "ResultBody",
    "SessionBody",
    "StatusData",
]

DEVICE_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$"

DeviceId = Annotated[str, text(pattern=DEVICE_ID)]
Name = Annotated[str, text(1, 200)]
Label = Annotated[str, text(max_length=200)]
Reason = Annotated[str, text(max_length=2000)]
ClaimToken = Annotated[str, text(1, 256)]
ReportedStatus = Literal["online", "busy", "error"]


class RegisterMetadata(Body):
    location: Label | None = None
    model: Label | None = None


class RegisterBody(Body):
    deviceId: DeviceId
    activationCode: Annotated[str, text(1, 128)]
    metadata: RegisterMetadata | None = None


class AuthBody(Body):
    deviceId: DeviceId
    deviceSecret: Annotated[str, text(1, 256)]


class Metrics(Body):
    cpu: float = pydantic.Field(ge=0)
    memory: float = pydantic.Field(ge=0)
    uptime: float = pydantic.Field(ge=0)


class HeartbeatBody(Body):
    nullable = frozenset({"diagnostics"})
    timestamp: Timestamp
    status: ReportedStatus
    metrics: Metrics | None = None
    diagnostics: JsonValue = None


class StatusData(Body):
    """A device socket's ``status`` message: what a heartbeat carries, minus
    the timestamp (the socket message is the moment)."""

    model_config = pydantic.ConfigDict(extra="ignore", strict=True, allow_inf_nan=False)
    nullable = frozenset({"diagnostics"})
    status: ReportedStatus = "online"
    metrics: Metrics | None = None
    diagnostics: JsonValue = None


class ClaimBody(Body):
    limit: JsonInt = pydantic.Field(default=1, ge=1, le=10)
    visibilityTimeout: JsonInt | None = pydantic.Field(default=None, ge=1000, le=43_200_000)
    """None: the server's ``default_visibility_ms``."""


class ExtendBody(Body):
    claimToken: ClaimToken
    extensionMs: JsonInt = pydantic.Field(ge=1, le=300_000)


class ResultBody(Body):
    claimToken: ClaimToken
    status: Literal["success", "failure", "timeout"]
    output: Annotated[str, text(max_length=1_000_000)] | None = None
    error: Annotated[str, text(max_length=100_000)] | None = None
    executedAt: Timestamp
    duration: float = pydantic.Field(ge=0)


class ProvisionBody(Body):
    deviceId: DeviceId
    name: Name | None = None
    location: Label | None = None


class SessionBody(Body):
    deviceId: DeviceId
    type: Literal["diagnostic", "remediation"]
    description: Reason | None = None


class EnqueueBody(Body):
    type: Annotated[str, text(1, 100, r"^[A-Za-z0-9_.:-]+$")]
    parameters: dict[str, JsonValue] | None = None
    priority: JsonInt = pydantic.Field(default=0, ge=0, le=100)


class ApproveBody(Body):
    commandId: Annotated[str, text(1, 64)]
    approved: bool
    reason: Reason | None = None
