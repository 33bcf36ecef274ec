"""The compliance platform's rules as I/O-free decisions: who may do what,
what a drift event or a healing result does to an incident, the states of
agents, tokens and deliveries, compliance rates, learning. The stores carry
these out in transactions; the routes never decide.

| rule | decided in |
|---|---|
| the roles of an operation (``x-roles``) | ``READ``, ``OPERATE``, ``ADMIN``, ``check_role`` |
| a failed check opens the host's incident, or updates it | ``drift_action`` |
| a successful healing resolves it (``resolved_by: agent``) | ``healing_resolves`` |
| a resolved incident stays so (409), its first resolution kept | ``check_unresolved`` |
| severity of a new incident, by check | ``SEVERITY`` |
| online = a heartbeat within three check intervals | ``agent_status`` |
| an enrollment token's status | ``token_status`` |
| compliance rate: passing over reporting, null when none reported | ``rate`` |
| a learning candidate: a non-L1 runbook's steps on one issue | ``learns_from``, ``pattern_key`` |
| a candidate is decided once (409) | ``check_pending`` |
| which runbook heals a check on a site of a given tier | ``heals`` |
| escalations retried with doubling backoff until accepted or out of tries | ``next_attempt`` |
| the agent channel's certificate is issued again under 30 days left | ``server_certificate_due`` |
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from ._errors import AlreadyDecided, AlreadyResolved, InsufficientRole

__all__ = [
    "ADMIN",
    "CHECK_TYPES",
    "OPERATE",
    "READ",
    "SEVERITY",
    "DriftAction",
    "Role",
    "agent_status",
    "check_pending",
    "check_role",
    "check_unresolved",
    "drift_action",
    "healing_resolves",
    "heals",
    "issue_signature",
    "learns_from",
    "next_attempt",
    "pattern_key",
    "rate",
    "server_certificate_due",
    "token_status",
]


class Role(enum.StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"


READ = frozenset(Role)
OPERATE = frozenset({Role.ADMIN, Role.OPERATOR})
ADMIN = frozenset({Role.ADMIN})

CHECK_TYPES = ("bitlocker", "defender", "firewall", "patches", "screenlock", "rmm")
SEVERITY = {
    "bitlocker": "critical",
    "defender": "high",
    "firewall": "high",
    "patches": "medium",
    "screenlock": "medium",
    "rmm": "low",
}
TIERS = ("monitor_only", "self_heal", "full_remediation")
MAX_BACKOFF = 3600.0
RENEW_BEFORE = 30 * 86_400.0


def check_role(role: str, allowed: frozenset[Role]) -> None:
    """Refuse a role the operation does not allow (before looking at any id)."""
    if role not in allowed:
        raise InsufficientRole("Your role may not do this")


class DriftAction(enum.Enum):
    NOTHING = "nothing"
    OPEN = "open"
    UPDATE = "update"


def drift_action(passed: bool, open_incident: bool) -> DriftAction:
    """A failed check opens an incident for the host and check, or updates the
    one already open; a passing check changes no incident (healing resolves)."""
    if passed:
        return DriftAction.NOTHING
    return DriftAction.UPDATE if open_incident else DriftAction.OPEN


def healing_resolves(success: bool, resolved: bool) -> bool:
    return success and not resolved


def check_unresolved(resolved: bool) -> None:
    if resolved:
        raise AlreadyResolved("Incident already resolved")


def check_pending(status: str) -> None:
    if status != "pending":
        raise AlreadyDecided(f"Candidate already {status}")


def agent_status(
    revoked_at: float | None, last_checkin: float | None, now: float, check_interval: float
) -> str:
    if revoked_at is not None:
        return "revoked"
    if last_checkin is not None and now - last_checkin <= 3 * check_interval:
        return "online"
    return "offline"


def token_status(
    revoked_at: float | None, expires_at: float, uses: int, max_uses: int | None, now: float
) -> str:
    if revoked_at is not None:
        return "revoked"
    if max_uses is not None and uses >= max_uses:
        return "exhausted"
    if now >= expires_at:
        return "expired"
    return "active"


def rate(passing: int, reporting: int) -> float | None:
    return round(passing / reporting, 4) if reporting else None


def issue_signature(check_type: str, expected: str, actual: str) -> str:
    return f"{check_type}: expected {expected}, actual {actual}"


def pattern_key(check_type: str, signature: str, steps: Sequence[Any]) -> str:
    """The identity of a resolution pattern on a site: the issue and the steps."""
    text = json.dumps([check_type, signature, list(steps)], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def learns_from(level: str) -> bool:
    """Resolutions worth learning: those of runbooks that are not deterministic
    yet (L2 needs judgment, L3 a human); an L1 runbook already is the pattern."""
    return level != "L1"


def heals(tier: str, level: str, is_disruptive: bool) -> bool:
    """May a runbook be sent to an agent of a site at ``tier``?"""
    if level != "L1" or tier == "monitor_only":
        return False
    return tier == "full_remediation" or not is_disruptive


def next_attempt(attempts: int, now: float, backoff: float, max_attempts: int) -> float | None:
    """When to try delivering again after ``attempts`` failed tries; None: give up."""
    if attempts >= max_attempts:
        return None
    delay: float = min(backoff * 2 ** (attempts - 1), MAX_BACKOFF)
    return now + delay


def server_certificate_due(
    not_after: float, names: frozenset[str], wanted: frozenset[str], now: float
) -> bool:
    """Issue the listeners' certificate again? When under 30 days remain (or it
    expired), or when it does not name every host the listeners answer as."""
    return not_after - now < RENEW_BEFORE or not wanted <= names
