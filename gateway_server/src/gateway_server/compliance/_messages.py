"""The agent channel's messages checked, I/O-free: each gRPC message in, a
plain record out, or :class:`BadMessage` naming the field (the listeners
answer it INVALID_ARGUMENT, or put it in a DriftAck's ``error``), or
:class:`NotYours` for an ``agent_id`` that is not the caller's
(PERMISSION_DENIED). Strings, maps and lists are bounded here, so nothing
oversize reaches the database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ._proto import compliance_pb2 as pb
from ._rules import CHECK_TYPES

__all__ = [
    "MAX_CSR",
    "BadMessage",
    "Drift",
    "Enrollment",
    "Healing",
    "Heartbeat",
    "NotYours",
    "RMMReport",
    "drift",
    "enrollment",
    "healing",
    "heartbeat",
    "renewal_csr",
    "rmm_report",
]

MAX_SHORT = 255  # hostnames, versions, names, ids
MAX_TEXT = 4096  # expected/actual, error messages
MAX_MAP = 64  # entries of metadata/artifacts
MAX_KEY = 128
MAX_VALUE = 4096
MAX_LIST = 256  # installed software, detected RMM agents
MAX_CSR = 16_384
MAX_TOKEN = 128
FUTURE = 86_400  # a timestamp may run a day ahead (clock skew); beyond is a bad message


class BadMessage(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


class NotYours(PermissionError):
    """The message names an agent other than the certificate's."""


def _text(field: str, value: str, limit: int = MAX_SHORT, *, required: bool = False) -> str:
    if required and not value.strip():
        raise BadMessage(field, "required")
    if len(value) > limit:
        raise BadMessage(field, f"longer than {limit} characters")
    if "\x00" in value:
        raise BadMessage(field, "contains a NUL character")
    return value


def _map(field: str, value: Mapping[str, str]) -> dict[str, str]:
    if len(value) > MAX_MAP:
        raise BadMessage(field, f"more than {MAX_MAP} entries")
    for key, item in value.items():
        _text(f"{field} key", key, MAX_KEY, required=True)
        _text(f"{field}[{key[:MAX_KEY]}]", item, MAX_VALUE)
    return dict(value)


def _list(field: str, value: Sequence[Any]) -> None:
    if len(value) > MAX_LIST:
        raise BadMessage(field, f"more than {MAX_LIST} entries")


def _when(field: str, value: int, now: float) -> float:
    """0 (unset): now. Else Unix seconds, not before 1970 nor over a day ahead."""
    if value == 0:
        return now
    if value < 0 or value > now + FUTURE:
        raise BadMessage(field, "not a plausible Unix time")
    return float(value)


def _check(field: str, value: str) -> str:
    if value not in CHECK_TYPES:
        raise BadMessage(field, f"unknown check type (one of {', '.join(CHECK_TYPES)})")
    return value


def _caller(agent_id: str, caller: str) -> None:
    """An agent names itself in each message; any other id is refused. Empty
    means the caller (the certificate already names it)."""
    _text("agent_id", agent_id)
    if agent_id and agent_id != caller:
        raise NotYours("agent_id is not the certificate's agent")


def _host(value: str, enrolled: str) -> str:
    """The agent's own host: a report names the host the agent enrolled from
    (or none); another host's incidents are not its to open or resolve."""
    _text("hostname", value)
    if value and value.casefold() != enrolled.casefold():
        raise BadMessage("hostname", "not the host this agent enrolled from")
    return enrolled


@attrs.frozen
class Enrollment:
    token: str
    hostname: str
    os_version: str
    agent_version: str
    mac_address: str | None
    csr_pem: bytes | None
    """None: make the key here (``needs_certificates``)."""


def renewal_csr(message: pb.RegisterRequest) -> bytes | None:
    """The CSR of a Register on the agent listener (renewal); None: none sent."""
    if len(message.csr_pem) > MAX_CSR:
        raise BadMessage("csr_pem", f"larger than {MAX_CSR} bytes")
    return bytes(message.csr_pem) or None


def enrollment(message: pb.RegisterRequest) -> Enrollment:
    """A Register on the enrollment listener. The token's checks are the
    database's; an empty one is refused there like any other bad token."""
    _list("installed_software", message.installed_software)
    for item in message.installed_software:
        _text("installed_software", item)
    csr = renewal_csr(message)
    if csr is None and not message.needs_certificates:
        raise BadMessage("csr_pem", "required (or needs_certificates, for a key made here)")
    token = message.enrollment_token
    return Enrollment(
        token=token if len(token) <= MAX_TOKEN else "",  # refused like any bad token
        hostname=_text("hostname", message.hostname, required=True),
        os_version=_text("os_version", message.os_version),
        agent_version=_text("agent_version", message.agent_version, 64),
        mac_address=_text("mac_address", message.mac_address, 64) or None,
        csr_pem=csr,
    )


@attrs.frozen
class Drift:
    event_id: str
    """The agent's id for the event; "" when it gave none (never deduplicated)."""
    hostname: str
    check_type: str
    passed: bool
    expected: str
    actual: str
    hipaa_control: str
    observed_at: float
    metadata: dict[str, str]


def drift_event_id(message: pb.DriftEvent) -> str:
    """The event's id alone, checked first: a malformed event is still acked by it."""
    return _text("event_id", message.event_id, 64)


def drift(message: pb.DriftEvent, caller: str, host: str, now: float) -> Drift:
    """``caller``, ``host``: the certificate's agent and the host it enrolled from."""
    _caller(message.agent_id, caller)
    return Drift(
        event_id=drift_event_id(message),
        hostname=_host(message.hostname, host),
        check_type=_check("check_type", message.check_type),
        passed=message.passed,
        expected=_text("expected", message.expected, MAX_TEXT),
        actual=_text("actual", message.actual, MAX_TEXT),
        hipaa_control=_text("hipaa_control", message.hipaa_control, 64),
        observed_at=_when("timestamp", message.timestamp, now),
        metadata=_map("metadata", message.metadata),
    )


@attrs.frozen
class Healing:
    event_id: str
    hostname: str
    check_type: str
    success: bool
    error_message: str | None
    command_id: str | None
    artifacts: dict[str, str]


def healing(message: pb.HealingResult, caller: str, host: str, now: float) -> Healing:
    _caller(message.agent_id, caller)
    _when("timestamp", message.timestamp, now)
    return Healing(
        event_id=_text("event_id", message.event_id, 64),
        hostname=_host(message.hostname, host),
        check_type=_check("check_type", message.check_type),
        success=message.success,
        error_message=_text("error_message", message.error_message, MAX_TEXT) or None,
        command_id=_text("command_id", message.command_id, 64) or None,
        artifacts=_map("artifacts", message.artifacts),
    )


@attrs.frozen
class Heartbeat:
    drift_count: int
    healing_count: int
    agent_version: str


def heartbeat(message: pb.HeartbeatRequest, caller: str, now: float) -> Heartbeat:
    _caller(message.agent_id, caller)
    _when("timestamp", message.timestamp, now)
    for field in ("drift_count", "healing_count"):
        if not 0 <= getattr(message, field) < 2**31:
            raise BadMessage(field, "out of range")
    return Heartbeat(
        message.drift_count,
        message.healing_count,
        _text("agent_version", message.agent_version, 64),
    )


@attrs.frozen
class RMMReport:
    agents: list[dict[str, Any]]


def rmm_report(message: pb.RMMStatusReport, caller: str, now: float) -> RMMReport:
    _caller(message.agent_id, caller)
    _when("timestamp", message.timestamp, now)
    _list("detected_agents", message.detected_agents)
    agents = [
        {
            "name": _text("detected_agents.name", a.name, required=True),
            "version": _text("detected_agents.version", a.version),
            "running": a.running,
            "service_name": _text("detected_agents.service_name", a.service_name),
        }
        for a in message.detected_agents
    ]
    return RMMReport(agents)
