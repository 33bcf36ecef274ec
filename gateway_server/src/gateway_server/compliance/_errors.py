"""The compliance platform's errors: a kind from ``gateway_server._errors``
(which fixes the status) and the contract's code (``ErrorCode``)."""

from __future__ import annotations

from .._errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
    UpstreamFailed,
)

__all__ = [
    "AlreadyDecided",
    "AlreadyResolved",
    "ConnectorExists",
    "InsufficientRole",
    "InvalidCredentials",
    "NotAuthenticated",
    "OAuthExchangeFailed",
    "OAuthProviderError",
    "OAuthStateInvalid",
    "SessionExpired",
    "SessionInvalid",
    "SiteNameConflict",
    "missing",
    "render",
]


class NotAuthenticated(Unauthenticated):
    code = "NOT_AUTHENTICATED"


class SessionInvalid(Unauthenticated):
    code = "SESSION_INVALID"


class SessionExpired(Unauthenticated):
    code = "SESSION_EXPIRED"


class InvalidCredentials(Unauthenticated):
    code = "INVALID_CREDENTIALS"


class InsufficientRole(Forbidden):
    code = "INSUFFICIENT_ROLE"


class SiteNameConflict(Conflict):
    code = "SITE_NAME_CONFLICT"


class AlreadyResolved(Conflict):
    code = "INCIDENT_ALREADY_RESOLVED"


class AlreadyDecided(Conflict):
    code = "CANDIDATE_ALREADY_DECIDED"


class ConnectorExists(Conflict):
    code = "CONNECTOR_EXISTS"


class OAuthStateInvalid(InvalidInput):
    code = "OAUTH_STATE_INVALID"


class OAuthProviderError(InvalidInput):
    code = "OAUTH_PROVIDER_ERROR"


class OAuthExchangeFailed(UpstreamFailed):
    code = "OAUTH_EXCHANGE_FAILED"


_NOT_FOUND = {
    "site": ("SITE_NOT_FOUND", "Site not found"),
    "partner": ("PARTNER_NOT_FOUND", "Partner not found"),
    "agent": ("AGENT_NOT_FOUND", "Agent not found"),
    "incident": ("INCIDENT_NOT_FOUND", "Incident not found"),
    "runbook": ("RUNBOOK_NOT_FOUND", "Runbook not found"),
    "candidate": ("CANDIDATE_NOT_FOUND", "Learning candidate not found"),
    "connector": ("CONNECTOR_NOT_FOUND", "Connector not found"),
    "notification": ("NOTIFICATION_NOT_FOUND", "Notification not found"),
    "enrollment_token": ("ENROLLMENT_TOKEN_NOT_FOUND", "Enrollment token not found"),
}


def missing(kind: str) -> NotFound:
    """The 404 of a ``kind`` of record that does not exist, or is another partner's
    (the same answer for both)."""
    code, message = _NOT_FOUND[kind]
    return NotFound(message, code=code)


def render(error: DomainError) -> dict[str, object]:
    """The document's error body ``{detail, status: "error", code}``; a 422
    lists every failing field in ``detail`` and sums them up in ``message``."""
    if error.fields:
        return {
            "detail": error.fields,
            "status": "error",
            "code": "VALIDATION_ERROR",
            "message": error.message,
        }
    return {"detail": error.message, "status": "error", "code": error.code}
