"""Rows to wire JSON: every object the device gateway answers with, shaped as
contracts/gateway.openapi.yaml shows it. Pure functions of a row and ``now``."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ._records import ClaimedCommand, NewCommand
from ._rules import CommandState, customer_status, device_status

__all__ = [
    "claimed_json",
    "command_json",
    "command_message",
    "command_update",
    "device_json",
    "device_status_json",
    "iso",
    "loads",
    "new_command_json",
    "notice",
    "registered_json",
    "session_json",
]


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return (
        dt.datetime.fromtimestamp(ts, dt.UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def loads(text: str | None) -> Any:
    """Stored JSON text back to a value (``None`` stays ``None``)."""
    return None if text is None else json.loads(text)


def claimed_json(command: ClaimedCommand) -> dict[str, Any]:
    """A command as a claim answers with it: with its claim token and deadline."""
    return {
        "id": command.id,
        "type": command.type,
        "parameters": command.parameters,
        "priority": command.priority,
        "claimToken": command.claim_token,
        "visibleUntil": iso(command.visible_until),
    }


def notice(row: Any) -> dict[str, Any]:
    """A command as a device socket's ``command`` notice names it."""
    return {"id": row.id, "type": row.type, "priority": row.priority}


def command_message(command: dict[str, Any]) -> dict[str, Any]:
    """The ``command`` message a device socket receives for a claimable command."""
    data = {"id": command["id"], "type": command["type"], "priority": command.get("priority", 0)}
    return {"type": "command", "data": data}


def command_json(row: Any, now: float) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id,
        "type": row.type,
        "priority": row.priority,
        "status": customer_status(row.state, row.visible_until, now),
        "claimCount": row.claim_count,
        "createdAt": iso(row.created_at),
    }
    if row.state == CommandState.COMPLETED:
        out["result"] = {
            "status": row.result_status,
            "output": row.output,
            "error": row.error,
            "executedAt": row.executed_at,
            "duration": row.duration,
        }
    elif row.state == CommandState.REJECTED and row.decision_reason:
        out["result"] = {"reason": row.decision_reason}
    return out


def new_command_json(command: NewCommand) -> dict[str, Any]:
    """A command just enqueued."""
    return {
        "id": command.id,
        "type": command.type,
        "priority": command.priority,
        "status": command.state.value,
        "claimCount": 0,
        "createdAt": iso(command.created_at),
    }


def command_update(row: Any, now: float) -> dict[str, Any]:
    """A customer socket's ``command_update`` data: the command, its device and session."""
    return {**command_json(row, now), "deviceId": row.device_id, "sessionId": row.session_id}


def session_json(
    row: Any, commands: list[Any] | None, now: float, commands_total: int = 0
) -> dict[str, Any]:
    """A session; with a page of its commands (and how many there are in
    all) when ``commands`` is given."""
    out: dict[str, Any] = {
        "id": row.id,
        "deviceId": row.device_id,
        "type": row.type,
        "status": "active" if row.expires_at > now else "expired",
        "createdAt": iso(row.created_at),
        "expiresAt": iso(row.expires_at),
    }
    if commands is not None:
        out["commands"] = [command_json(c, now) for c in commands]
        out["commandsTotal"] = commands_total
    return out


def device_json(row: Any, now: float, heartbeat_interval_ms: int) -> dict[str, Any]:
    """A device in a customer's list."""
    return {
        "id": row.id,
        "name": row.name,
        "status": device_status(
            row.status, row.last_seen, row.reported_status, now, heartbeat_interval_ms
        ),
        "lastSeen": iso(row.last_seen),
        "location": row.location,
    }


def registered_json(device_id: str, customer_id: str, registered_at: float) -> dict[str, Any]:
    """The device a registration answers with."""
    return {
        "id": device_id,
        "status": "active",
        "customerId": customer_id,
        "registeredAt": iso(registered_at),
    }


def device_status_json(
    row: Any,
    active_session: str | None,
    dead_letters: int,
    now: float,
    heartbeat_interval_ms: int,
) -> dict[str, Any]:
    """A device's status, as its owner sees it."""
    return {
        "id": row.id,
        "status": device_status(
            row.status, row.last_seen, row.reported_status, now, heartbeat_interval_ms
        ),
        "lastHeartbeat": iso(row.last_seen),
        "metrics": loads(row.metrics),
        "diagnostics": loads(row.diagnostics),
        "activeSession": active_session,
        "deadLetterCommands": dead_letters,
    }
