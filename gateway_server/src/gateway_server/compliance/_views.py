"""Rows to the contract's JSON (contracts/compliance.openapi.yaml): one
function per record, timestamps in RFC 3339 UTC, stored JSON text back to values."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from ._rules import agent_status, token_status

__all__ = [
    "agent_json",
    "candidate_json",
    "connector_json",
    "escalation_json",
    "execution_json",
    "incident_detail_json",
    "incident_json",
    "listed_incident",
    "iso",
    "loads",
    "page_json",
    "runbook_json",
    "site_json",
    "token_json",
    "user_json",
]


_MINUTES: dict[int, str] = {}


def iso(ts: float | None) -> str | None:
    """RFC 3339 UTC with milliseconds, from a per-minute prefix: a list renders
    two per record, and ``datetime.isoformat`` took four times as long."""
    if ts is None:
        return None
    seconds, ms = divmod(int(ts * 1000 + 0.5), 1000)
    minute, secs = divmod(seconds, 60)
    prefix = _MINUTES.get(minute)
    if prefix is None:
        if len(_MINUTES) > 100_000:
            _MINUTES.clear()
        moment = dt.datetime.fromtimestamp(minute * 60, dt.UTC)
        prefix = _MINUTES[minute] = moment.strftime("%Y-%m-%dT%H:%M:")
    return f"{prefix}{secs:02d}.{ms:03d}Z"


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


_LISTS: dict[str, list[str]] = {}


def string_list(text: str) -> list[str]:
    """A stored JSON list of strings (HIPAA controls: a handful of distinct
    values), parsed once per distinct text. The list is shared: read only."""
    found = _LISTS.get(text)
    if found is None:
        if len(_LISTS) > 10_000:
            _LISTS.clear()
        found = _LISTS[text] = json.loads(text)
    return found


def page_json(items: Sequence[Any], total: int, limit: int, offset: int) -> dict[str, Any]:
    return {"items": list(items), "total": total, "limit": limit, "offset": offset}


def user_json(row: Any) -> dict[str, Any]:
    return {"id": row.id, "username": row.username, "role": row.role, "partner_id": row.partner_id}


def site_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "partner_id": row.partner_id,
        "capability_tier": row.capability_tier,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


def token_json(row: Any, now: float, fingerprint: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "site_id": row.site_id,
        "description": row.description,
        "token_prefix": row.token_prefix,
        "status": token_status(row.revoked_at, row.expires_at, row.uses, row.max_uses, now),
        "max_uses": row.max_uses,
        "uses": row.uses,
        "expires_at": iso(row.expires_at),
        "created_at": iso(row.created_at),
        "created_by": row.created_by,
        "last_used_at": iso(row.last_used_at),
        "revoked_at": iso(row.revoked_at),
        "ca_fingerprint_sha256": fingerprint,
    }


def agent_json(row: Any, failing: Sequence[str], now: float, interval: float) -> dict[str, Any]:
    rmm = None
    if row.rmm_reported_at is not None:
        rmm = {"reported_at": iso(row.rmm_reported_at), "agents": loads(row.rmm)}
    return {
        "id": row.id,
        "site_id": row.site_id,
        "hostname": row.hostname,
        "os_version": row.os_version,
        "agent_version": row.agent_version,
        "mac_address": row.mac_address,
        "status": agent_status(row.revoked_at, row.last_checkin, now, interval),
        "enrolled_at": iso(row.enrolled_at),
        "last_checkin": iso(row.last_checkin),
        "certificate_expires_at": iso(row.certificate_expires_at),
        "revoked_at": iso(row.revoked_at),
        "drift_count": row.drift_count,
        "healing_count": row.healing_count,
        "failing_checks": list(failing),
        "rmm": rmm,
    }


def incident_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "site_id": row.site_id,
        "hostname": row.hostname,
        "check_type": row.check_type,
        "severity": row.severity,
        "resolved": bool(row.resolved),
        "resolved_at": iso(row.resolved_at),
        "hipaa_controls": string_list(row.hipaa_controls),
        "created_at": iso(row.created_at),
    }


_LISTED: dict[tuple[Any, ...], dict[str, Any]] = {}


def listed_incident(row: tuple[Any, ...]) -> dict[str, Any]:
    """An incident of a list page, rendered once per distinct row: the row is
    its values (any change makes another row), and a dashboard asks for the
    same pages again and again. The dict is shared: read only."""
    found = _LISTED.get(row)
    if found is None:
        if len(_LISTED) >= 20_000:
            _LISTED.clear()
        found = _LISTED[row] = incident_json(row)
    return found


def execution_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "runbook_id": row.runbook_id,
        "site_id": row.site_id,
        "agent_id": row.agent_id,
        "hostname": row.hostname,
        "incident_id": row.incident_id,
        "command_id": row.command_id,
        "status": row.status,
        "error_message": row.error_message,
        "artifacts": loads(row.artifacts),
        "started_at": iso(row.started_at),
        "finished_at": iso(row.finished_at),
    }


def incident_detail_json(row: Any, execution: Any | None) -> dict[str, Any]:
    return {
        **incident_json(row),
        "drift": {
            "agent_id": row.agent_id,
            "expected": row.expected,
            "actual": row.actual,
            "hipaa_control": row.hipaa_control,
            "metadata": loads(row.metadata),
            "observed_at": iso(row.observed_at),
            "occurrences": row.occurrences,
            "last_seen_at": iso(row.last_seen_at),
        },
        "runbook_execution": None if execution is None else execution_json(execution),
        "resolved_by": row.resolved_by,
        "resolved_by_user_id": row.resolved_by_user_id,
        "resolution_note": row.resolution_note,
    }


def runbook_json(row: Any, executions: int, succeeded: int, finished: int) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "level": row.level,
        "check_type": row.check_type,
        "hipaa_controls": string_list(row.hipaa_controls),
        "is_disruptive": bool(row.is_disruptive),
        "steps": loads(row.steps),
        "partner_id": row.partner_id,
        "source_candidate_id": row.source_candidate_id,
        "execution_count": executions,
        "success_rate": round(succeeded / finished, 4) if finished else None,
        "created_at": iso(row.created_at),
    }


def candidate_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "site_id": row.site_id,
        "check_type": row.check_type,
        "issue_signature": row.issue_signature,
        "resolution_steps": loads(row.resolution_steps),
        "occurrences": row.occurrences,
        "success_count": row.success_count,
        "status": row.status,
        "first_seen_at": iso(row.first_seen_at),
        "last_seen_at": iso(row.last_seen_at),
        "promoted_runbook_id": row.promoted_runbook_id,
        "decided_at": iso(row.decided_at),
        "decided_by": row.decided_by,
        "reject_reason": row.reject_reason,
    }


def connector_json(row: Any, principal: str | None) -> dict[str, Any]:
    """A connector: never its tokens (the row's ``tokens`` column is not read here)."""
    aws = None
    if row.provider == "aws":
        aws = {
            "role_arn": row.aws_role_arn,
            "external_id": row.aws_external_id,
            "trusted_principal_arn": principal,
        }
    return {
        "id": row.id,
        "site_id": row.site_id,
        "provider": row.provider,
        "status": row.status,
        "account": row.account,
        "scopes": loads(row.scopes),
        "aws": aws,
        "last_error": row.last_error,
        "connected_at": iso(row.connected_at),
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


def escalation_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "site_id": row.site_id,
        "incident_id": row.incident_id,
        "priority": row.priority,
        "subject": row.subject,
        "message": row.message,
        "created_by": row.created_by,
        "created_at": iso(row.created_at),
        "delivery": {
            "status": row.delivery_status,
            "attempts": row.attempts,
            "delivered_at": iso(row.delivered_at),
            "next_attempt_at": iso(row.next_attempt_at),
            "log": loads(row.log),
        },
    }
