"""Every compliance call as I/O-free pieces shared by the sync and async twins:
the request (validated before any network call, naming the field), the
per-call options a call takes (:func:`per_call`), the page built from a list
envelope, and the session login (:class:`SessionLogin`).

Optional arguments arrive as ``NOT_GIVEN`` when left out. No field of a
compliance request body may be null (contracts/compliance.openapi.yaml), so
``None`` is left out too, as sdk_core's convention says for such fields.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar, get_args

import attrs
import httpx

from sdk_core import (
    APIResponse,
    Clock,
    InputValidationError,
    NotGiven,
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
    no_idempotency_key,
)

from ._models import (
    AgentStatus,
    CandidateStatus,
    CapabilityTier,
    CheckType,
    DeliveryStatus,
    ExecutionStatus,
    ListEnvelope,
    OAuthProvider,
    Priority,
    RunbookLevel,
    Severity,
    TokenStatus,
)

T = TypeVar("T")

MAX_PAGE_SIZE = 200
PAGINATION: Final = OffsetPagination(offset_param="offset", limit_param="limit")
"""Every compliance list is ``{items, total, limit, offset}``, paged by ``offset``."""
LOGIN_PATH = "/api/auth/login"
_ROLE_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$")


# -- per-call options -------------------------------------------------------------------
def per_call(options: Mapping[str, Any]) -> Mapping[str, Any]:
    """A compliance call's per-call options (sdk_core's ``RequestOverrides``).

    ``idempotency_key`` is refused by name: the compliance contract has no
    ``Idempotency-Key`` and its server does not deduplicate by one, while
    sdk_core would retry a POST carrying a key as if it were safe to send twice.
    """
    return no_idempotency_key(
        options,
        "is not taken by compliance calls: the platform does not deduplicate by "
        "Idempotency-Key (the revokes are safe to send again without one)",
    )


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


def boolean(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InputValidationError(field, "must be True or False", value=value)
    return value


def given(value: Any) -> Any:
    """``value``, or None when it was left out (``NOT_GIVEN``)."""
    return None if isinstance(value, NotGiven) else value


def optional(checked: Callable[..., T], value: Any, *args: Any, **kwargs: Any) -> T | None:
    """``checked(value, ...)``, or None for a value left out (``NOT_GIVEN`` or ``None``)."""
    value = given(value)
    return None if value is None else checked(value, *args, **kwargs)


def _drop_none(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _choice(value: Any, kind: Any, field: str) -> str | None:
    """An optional value of the ``Literal`` type ``kind``."""
    return optional(one_of, value, get_args(kind), field)


# -- lists ------------------------------------------------------------------------------
def list_params(limit: Any, offset: Any = None, **filters: Any) -> dict[str, Any]:
    """Query parameters of a list: the filters given, the page size and where
    to start (the first page from ``offset``, 0 by default)."""
    params = _drop_none(**filters)
    for name, value in params.items():
        if isinstance(value, bool):
            params[name] = "true" if value else "false"
    size = optional(integer, limit, "limit", 1, MAX_PAGE_SIZE)
    if size is not None:
        params["limit"] = size
    start = optional(integer, offset, "offset", 0, 1_000_000_000)
    if start is not None:
        params["offset"] = start
    return params


def to_page(raw: APIResponse[Any]) -> Page[Any]:
    envelope: ListEnvelope[Any] = raw.parsed
    return Page(envelope.items, total=envelope.total, raw=envelope)


def get(path: str, params: Mapping[str, Any] | None = None) -> RequestOptions:
    return RequestOptions(method="GET", url=path, params=dict(params) if params else None)


def post(path: str, body: Any = None, *, idempotent: bool | None = None) -> RequestOptions:
    return RequestOptions(method="POST", url=path, json=body, idempotent=idempotent)


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


def revoke(path: str) -> RequestOptions:
    """A revoke: revoking a revoked token or agent answers the same record
    (the contract), so it is safe to send again and retried like a GET."""
    return post(path, idempotent=True)


# -- bodies and filters -----------------------------------------------------------------
def site_body(name: Any, capability_tier: Any, partner_id: Any = None) -> dict[str, Any]:
    return _drop_none(
        name=text(name, "name", 1, 255, blank=False),
        partner_id=optional(uuid, partner_id, "partner_id"),
        capability_tier=_choice(capability_tier, CapabilityTier, "capability_tier"),
    )


def token_body(description: Any, expires_in_seconds: Any, max_uses: Any) -> dict[str, Any]:
    return _drop_none(
        description=optional(text, description, "description", 0, 255),
        expires_in_seconds=optional(
            integer, expires_in_seconds, "expires_in_seconds", 300, 2_592_000
        ),
        max_uses=optional(integer, max_uses, "max_uses", 1, 100_000),
    )


def token_filters(status: Any) -> dict[str, Any]:
    return {"status": _choice(status, TokenStatus, "status")}


def agent_filters(status: Any) -> dict[str, Any]:
    return {"status": _choice(status, AgentStatus, "status")}


def incident_filters(site_id: Any, severity: Any, resolved: Any, check_type: Any) -> dict[str, Any]:
    return {
        "site_id": optional(uuid, site_id, "site_id"),
        "severity": _choice(severity, Severity, "severity"),
        "resolved": optional(boolean, resolved, "resolved"),
        "check_type": _choice(check_type, CheckType, "check_type"),
    }


def runbook_filters(check_type: Any, level: Any) -> dict[str, Any]:
    return {
        "check_type": _choice(check_type, CheckType, "check_type"),
        "level": _choice(level, RunbookLevel, "level"),
    }


def execution_filters(site_id: Any, status: Any) -> dict[str, Any]:
    return {
        "site_id": optional(uuid, site_id, "site_id"),
        "status": _choice(status, ExecutionStatus, "status"),
    }


def candidate_filters(site_id: Any, check_type: Any, status: Any) -> dict[str, Any]:
    return {
        "site_id": optional(uuid, site_id, "site_id"),
        "check_type": _choice(check_type, CheckType, "check_type"),
        "status": _choice(status, CandidateStatus, "status"),
    }


def promote_body(name: Any, description: Any, is_disruptive: Any, severity: Any) -> dict[str, Any]:
    return _drop_none(
        name=optional(text, name, "name", 1, 255, blank=False),
        description=optional(text, description, "description", 0, 2000),
        is_disruptive=optional(boolean, is_disruptive, "is_disruptive"),
        severity=_choice(severity, Severity, "severity"),
    )


def note_body(name: str, value: Any) -> dict[str, Any]:
    return _drop_none(**{name: optional(text, value, name, 0, 2000)})


def oauth_body(provider: Any, tenant_id: Any, okta_domain: Any) -> dict[str, Any]:
    one_of(provider, get_args(OAuthProvider), "provider")
    tenant_id, okta_domain = given(tenant_id), given(okta_domain)
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


def callback_request(state: Any, code: Any, error: Any) -> RequestOptions:
    """The OAuth callback. Its ``state`` is single-use: the request is not sent
    again once it may have reached the server (a lost answer would come back as
    OAUTH_STATE_INVALID, hiding whether the connector was made)."""
    code, error = given(code), given(error)
    if code is None and error is None:
        raise InputValidationError("code", "give the provider's code (or its error)")
    params = _drop_none(state=text(state, "state", 1, 512), code=code, error=error)
    return RequestOptions(
        method="GET", url="/api/integrations/oauth/callback", params=params, idempotent=False
    )


def escalation_body(
    site_id: Any, subject: Any, message: Any, incident_id: Any, priority: Any
) -> dict[str, Any]:
    return _drop_none(
        site_id=uuid(site_id, "site_id"),
        incident_id=optional(uuid, incident_id, "incident_id"),
        priority=_choice(priority, Priority, "priority"),
        subject=text(subject, "subject", 1, 200, blank=False),
        message=text(message, "message", 1, 10_000),
    )


def escalation_filters(site_id: Any, delivery_status: Any) -> dict[str, Any]:
    return {
        "site_id": optional(uuid, site_id, "site_id"),
        "delivery_status": _choice(delivery_status, DeliveryStatus, "delivery_status"),
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
