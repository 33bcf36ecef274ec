"""Every compliance call as I/O-free pieces shared by the sync and async twins:
the request (validated before any network call, naming the field), the page
built from a list envelope, and the session login (:class:`SessionLogin`)."""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from collections.abc import Mapping
from typing import Any, get_args

import attrs
import httpx

from sdk_core import (
    APIResponse,
    Clock,
    InputValidationError,
    OffsetPagination,
    Page,
    RequestOptions,
    SDKError,
    Secret,
    Token,
    TokenFlow,
    UUIDStr,
    check,
    make_status_error,
)

from ._models import (
    CapabilityTier,
    CheckType,
    DeliveryStatus,
    ListEnvelope,
    Priority,
    RunbookLevel,
    Severity,
)

MAX_PAGE_SIZE = 200
PAGINATION = OffsetPagination(offset_param="offset", limit_param="limit")
LOGIN_PATH = "/api/auth/login"
_TOKEN_STATUS = ("active", "expired", "exhausted", "revoked")
_AGENT_STATUS = ("online", "offline", "revoked")
_EXECUTION_STATUS = ("pending", "succeeded", "failed", "timed_out")
_CANDIDATE_STATUS = ("pending", "promoted", "rejected")
_ROLE_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$")


# -- values -----------------------------------------------------------------------------
def uuid(value: Any, field: str) -> str:
    return str(check(value, UUIDStr, field=field)).lower()


def one_of(value: Any, allowed: tuple[str, ...], field: str) -> str:
    if value not in allowed:
        raise InputValidationError(field, f"must be one of {', '.join(allowed)}", value=value)
    return str(value)


def text(value: Any, field: str, low: int, high: int, *, blank: bool = True) -> str:
    if not isinstance(value, str) or not low <= len(value) <= high:
        raise InputValidationError(field, f"must be a string of {low} to {high} characters")
    if not blank and not value.strip():
        raise InputValidationError(field, "must not be blank")
    return value


def integer(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputValidationError(field, f"must be an integer from {low} to {high}", value=value)
    return value


def _drop_none(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


# -- lists ------------------------------------------------------------------------------
def list_params(limit: int | None, **filters: Any) -> dict[str, Any]:
    """Query parameters of a list: the page size and the filters given."""
    params = _drop_none(**filters)
    for name, value in params.items():
        if isinstance(value, bool):
            params[name] = "true" if value else "false"
    if limit is not None:
        params["limit"] = integer(limit, "limit", 1, MAX_PAGE_SIZE)
    return params


def to_page(raw: APIResponse[Any]) -> Page[Any]:
    envelope: ListEnvelope[Any] = raw.parsed
    return Page(envelope.items, total=envelope.total, raw=envelope)


def get(path: str, params: Mapping[str, Any] | None = None) -> RequestOptions:
    return RequestOptions(method="GET", url=path, params=dict(params) if params else None)


def post(path: str, body: Any = None) -> RequestOptions:
    return RequestOptions(method="POST", url=path, json=body)


def put(path: str, body: Any) -> RequestOptions:
    return RequestOptions(method="PUT", url=path, json=body)


def delete(path: str) -> RequestOptions:
    return RequestOptions(method="DELETE", url=path)


# -- paths ------------------------------------------------------------------------------
def site_path(site_id: str, suffix: str = "") -> str:
    return f"/api/sites/{uuid(site_id, 'site_id')}{suffix}"


def token_path(site_id: str, token_id: str, suffix: str = "") -> str:
    return site_path(site_id, f"/enrollment-tokens/{uuid(token_id, 'token_id')}{suffix}")


def path(prefix: str, record_id: str, field: str, suffix: str = "") -> str:
    return f"{prefix}/{uuid(record_id, field)}{suffix}"


# -- bodies and filters -----------------------------------------------------------------
def site_body(name: str, capability_tier: CapabilityTier | None) -> dict[str, Any]:
    tier = capability_tier
    if tier is not None:
        tier = one_of(tier, get_args(CapabilityTier), "capability_tier")  # type: ignore[assignment]
    return _drop_none(name=text(name, "name", 1, 255, blank=False), capability_tier=tier)


def token_body(
    description: str | None, expires_in_seconds: int | None, max_uses: int | None
) -> dict[str, Any]:
    return _drop_none(
        description=None if description is None else text(description, "description", 0, 255),
        expires_in_seconds=None
        if expires_in_seconds is None
        else integer(expires_in_seconds, "expires_in_seconds", 300, 2_592_000),
        max_uses=None if max_uses is None else integer(max_uses, "max_uses", 1, 100_000),
    )


def token_filters(status: str | None) -> dict[str, Any]:
    return {"status": None if status is None else one_of(status, _TOKEN_STATUS, "status")}


def agent_filters(status: str | None) -> dict[str, Any]:
    return {"status": None if status is None else one_of(status, _AGENT_STATUS, "status")}


def incident_filters(
    site_id: str | None,
    severity: Severity | None,
    resolved: bool | None,
    check_type: CheckType | None,
) -> dict[str, Any]:
    if resolved is not None and not isinstance(resolved, bool):
        raise InputValidationError("resolved", "must be True or False", value=resolved)
    return {
        "site_id": None if site_id is None else uuid(site_id, "site_id"),
        "severity": None if severity is None else one_of(severity, get_args(Severity), "severity"),
        "resolved": resolved,
        "check_type": _check(check_type),
    }


def _check(check_type: Any) -> str | None:
    return None if check_type is None else one_of(check_type, get_args(CheckType), "check_type")


def runbook_filters(check_type: CheckType | None, level: RunbookLevel | None) -> dict[str, Any]:
    return {
        "check_type": _check(check_type),
        "level": None if level is None else one_of(level, get_args(RunbookLevel), "level"),
    }


def execution_filters(site_id: str | None, status: str | None) -> dict[str, Any]:
    return {
        "site_id": None if site_id is None else uuid(site_id, "site_id"),
        "status": None if status is None else one_of(status, _EXECUTION_STATUS, "status"),
    }


def candidate_filters(
    site_id: str | None, check_type: CheckType | None, status: str | None
) -> dict[str, Any]:
    return {
        "site_id": None if site_id is None else uuid(site_id, "site_id"),
        "check_type": _check(check_type),
        "status": None if status is None else one_of(status, _CANDIDATE_STATUS, "status"),
    }


def promote_body(
    name: str | None, description: str | None, is_disruptive: bool | None, severity: Severity | None
) -> dict[str, Any]:
    if is_disruptive is not None and not isinstance(is_disruptive, bool):
        raise InputValidationError("is_disruptive", "must be True or False", value=is_disruptive)
    return _drop_none(
        name=None if name is None else text(name, "name", 1, 255, blank=False),
        description=None if description is None else text(description, "description", 0, 2000),
        is_disruptive=is_disruptive,
        severity=None if severity is None else one_of(severity, get_args(Severity), "severity"),
    )


def note_body(name: str, value: str | None) -> dict[str, Any]:
    return _drop_none(**{name: None if value is None else text(value, name, 0, 2000)})


def oauth_body(provider: str, tenant_id: str | None, okta_domain: str | None) -> dict[str, Any]:
    one_of(provider, ("google_workspace", "azure_ad", "okta"), "provider")
    if tenant_id is not None and provider != "azure_ad":
        raise InputValidationError("tenant_id", "only for azure_ad")
    if provider == "okta" and not okta_domain:
        raise InputValidationError("okta_domain", "required for okta")
    if okta_domain is not None and provider != "okta":
        raise InputValidationError("okta_domain", "only for okta")
    return _drop_none(provider=provider, tenant_id=tenant_id, okta_domain=okta_domain)


def role_arn_body(role_arn: str) -> dict[str, Any]:
    if not isinstance(role_arn, str) or not _ROLE_ARN.match(role_arn):
        raise InputValidationError(
            "role_arn", "must be an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)"
        )
    return {"role_arn": role_arn}


def callback_params(state: str, code: str | None, error: str | None) -> dict[str, Any]:
    if code is None and error is None:
        raise InputValidationError("code", "give the provider's code (or its error)")
    return _drop_none(state=text(state, "state", 1, 512), code=code, error=error)


def escalation_body(
    site_id: str, subject: str, message: str, incident_id: str | None, priority: Priority | None
) -> dict[str, Any]:
    return _drop_none(
        site_id=uuid(site_id, "site_id"),
        incident_id=None if incident_id is None else uuid(incident_id, "incident_id"),
        priority=None if priority is None else one_of(priority, get_args(Priority), "priority"),
        subject=text(subject, "subject", 1, 200, blank=False),
        message=text(message, "message", 1, 10_000),
    )


def escalation_filters(
    site_id: str | None, delivery_status: DeliveryStatus | None
) -> dict[str, Any]:
    return {
        "site_id": None if site_id is None else uuid(site_id, "site_id"),
        "delivery_status": None
        if delivery_status is None
        else one_of(delivery_status, get_args(DeliveryStatus), "delivery_status"),
    }


# -- the session ------------------------------------------------------------------------
def _server_lifetime(response: httpx.Response, expires_at: str) -> float | None:
    """Seconds the session lives by the server's own clock (its ``Date`` header
    against ``expires_at``), so that a skewed local clock cannot shorten or
    stretch it; None without a ``Date``."""
    date = response.headers.get("date")
    if not date:
        return None
    try:
        sent = email.utils.parsedate_to_datetime(date)
        ends = dt.datetime.fromisoformat(expires_at.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    return max(0.0, (ends - sent).total_seconds())


@attrs.frozen(repr=False)
class SessionLogin:
    """Logs in with a username and password: the session token becomes the
    Bearer token. It is renewed by logging in again, ahead of its expiry
    when the server's ``Date`` tells the lifetime, and after any 401."""

    login_url: str
    username: str
    password: Secret = attrs.field(converter=Secret)
    clock: Clock | None = None

    def token_flow(self, current: Token | None, now: float) -> TokenFlow:
        body = {"username": self.username, "password": self.password.reveal()}
        response = yield httpx.Request("POST", self.login_url, json=body)
        if response.is_error:
            raise make_status_error(response, now=now)
        try:
            data = response.json()
            token, expires_at = str(data["token"]), str(data["expires_at"])
        except (ValueError, KeyError, TypeError):
            raise SDKError("login answered without a session token") from None
        lifetime = _server_lifetime(response, expires_at)
        return Token(
            access_token=Secret(token), expires_at=None if lifetime is None else now + lifetime
        )

    def __repr__(self) -> str:
        return f"SessionLogin(username={self.username!r}, password=Secret('**********'))"
