"""Every KubeNexus call as I/O-free pieces shared by the sync and async twins:
validated request options, and the page built from a list envelope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import pydantic

from sdk_core import (
    APIResponse,
    InputValidationError,
    NotGiven,
    Page,
    PageNumberPagination,
    RequestOptions,
    input_error_from,
)

from ._models import (
    CLOUD_CLUSTER_TYPES,
    WEBHOOK_EVENTS,
    ClusterType,
    Email,
    ListEnvelope,
    Order,
    Resolution,
    Severity,
    UserStatus,
    WebhookEvent,
)

M = TypeVar("M")

MAX_PAGE_SIZE = 100
PAGINATION = PageNumberPagination(page_param="page", limit_param="limit")

# Fields the API lets a write set to null (the contract's [string, "null"]): passing
# None sends null for these; for any other field None means "leave it out".
NULLABLE_CLUSTER = frozenset({"description"})
NULLABLE_USER = frozenset({"first_name", "last_name"})


T = TypeVar("T")


def _absent(value: T | NotGiven | None) -> T | None:
    """``NOT_GIVEN`` as ``None``, where the two mean the same (a query filter)."""
    return None if isinstance(value, NotGiven) else value


def given(fields: Mapping[str, Any], nullable: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The fields the caller gave: not ``NOT_GIVEN``, and ``None`` only where it means null."""
    return {
        k: v
        for k, v in fields.items()
        if not isinstance(v, NotGiven) and (v is not None or k in nullable)
    }


# -- shared ---------------------------------------------------------------------------
def path_id(value: int | str, field: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InputValidationError(field, "must be an id (int or str)", value=value)
    text = str(value)
    if not text or "/" in text or text.strip() != text:
        raise InputValidationError(
            field, "must be a non-empty id without '/' or spaces", value=value
        )
    return text


def _literal(value: Any, allowed: tuple[str, ...], field: str) -> str:
    if value not in allowed:
        raise InputValidationError(field, f"must be one of {', '.join(allowed)}", value=value)
    return str(value)


def list_params(
    *,
    page: int | NotGiven | None,
    limit: int | NotGiven | None,
    sort: str | NotGiven | None,
    order: Order | NotGiven | None,
    **filters: Any,
) -> dict[str, Any]:
    page, limit, sort, order = _absent(page), _absent(limit), _absent(sort), _absent(order)
    params: dict[str, Any] = {}
    if page is not None:
        if isinstance(page, bool) or not isinstance(page, int) or page < 1:
            raise InputValidationError("page", "must be an integer from 1", value=page)
        params["page"] = page
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
            raise InputValidationError(
                "limit", f"must be an integer from 1 to {MAX_PAGE_SIZE}", value=limit
            )
        params["limit"] = limit
    if sort is not None:
        if not isinstance(sort, str) or not sort:
            raise InputValidationError("sort", "must name a field", value=sort)
        params["sort"] = sort
    if order is not None:
        params["order"] = _literal(order, ("asc", "desc"), "order")
    for name, value in filters.items():
        if value is None or isinstance(value, NotGiven):
            continue
        if isinstance(value, bool):
            params[name] = "true" if value else "false"
        else:
            params[name] = value
    return params


def severity(value: Severity | NotGiven | None, field: str = "severity") -> str | None:
    if value is None or isinstance(value, NotGiven):
        return None
    return _literal(value, ("critical", "high", "medium", "low"), field)


def user_status(value: UserStatus | NotGiven | None) -> str | None:
    if value is None or isinstance(value, NotGiven):
        return None
    return _literal(value, ("active", "inactive", "suspended"), "status")


def to_page(raw: APIResponse[Any]) -> Page[Any]:
    envelope: ListEnvelope[Any] = raw.parsed
    meta = envelope.pagination
    return Page(
        envelope.data,
        total=meta.total if meta else None,
        total_pages=meta.pages if meta else None,
        has_more=meta.has_next if meta else None,
        raw=envelope,
    )


def get(path: str, params: Mapping[str, Any] | None = None) -> RequestOptions:
    return RequestOptions(method="GET", url=path, params=dict(params) if params else None)


# -- auth ------------------------------------------------------------------------------
def change_password_request(current_password: str, new_password: str) -> RequestOptions:
    if not isinstance(current_password, str) or not current_password:
        raise InputValidationError("current_password", "must not be empty")
    if not isinstance(new_password, str) or len(new_password) < 8:
        raise InputValidationError("new_password", "must be at least 8 characters")
    if new_password == current_password:
        raise InputValidationError("new_password", "must differ from the current password")
    body = {"current_password": current_password, "new_password": new_password}
    return RequestOptions(method="POST", url="/auth/change-password", json=body)


# -- clusters ----------------------------------------------------------------------------
class _ClusterWrite(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    name: str = pydantic.Field(min_length=1)
    description: str | None = None
    cluster_type: ClusterType
    region: str | None = None
    kubeconfig: str | None = pydantic.Field(default=None, min_length=1)
    cloud_provider_id: int | str | None = None
    tags: dict[str, str] | None = None


def _validated_body(model: type[pydantic.BaseModel], data: Mapping[str, Any]) -> dict[str, Any]:
    """The body of the fields given (a None given for a nullable field stays: null)."""
    try:
        return model.model_validate(data).model_dump(mode="json", exclude_unset=True)
    except pydantic.ValidationError as exc:
        raise input_error_from(exc) from None


def cluster_write_request(method: str, path: str, fields: Mapping[str, Any]) -> RequestOptions:
    """Create (POST) or replace (PUT): on_premise needs a kubeconfig, eks/gke/aks
    a cloud_provider_id."""
    body = _validated_body(_ClusterWrite, given(fields, NULLABLE_CLUSTER))
    cluster_type = body["cluster_type"]
    if cluster_type == "on_premise" and not body.get("kubeconfig"):
        raise InputValidationError("kubeconfig", "is required for cluster_type 'on_premise'")
    if cluster_type in CLOUD_CLUSTER_TYPES and body.get("cloud_provider_id") in (None, ""):
        raise InputValidationError(
            "cloud_provider_id", f"is required for cluster_type {cluster_type!r}"
        )
    return RequestOptions(method=method, url=path, json=body)


class _ClusterPatch(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    name: str | None = pydantic.Field(default=None, min_length=1)
    description: str | None = None
    region: str | None = None
    kubeconfig: str | None = pydantic.Field(default=None, min_length=1)
    cloud_provider_id: int | str | None = None
    tags: dict[str, str] | None = None


def cluster_patch_request(path: str, fields: Mapping[str, Any]) -> RequestOptions:
    if "cluster_type" in fields:
        raise InputValidationError(
            "cluster_type", "cannot be changed by a patch; create a new cluster"
        )
    body = _validated_body(_ClusterPatch, given(fields, NULLABLE_CLUSTER))
    if not body:
        raise InputValidationError("fields", "give at least one field to change")
    return RequestOptions(method="PATCH", url=path, json=body)


# -- users -------------------------------------------------------------------------------
class _UserWrite(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    username: str = pydantic.Field(min_length=1)
    email: Email
    password: str | None = pydantic.Field(default=None, min_length=8)
    first_name: str | None = None
    last_name: str | None = None
    roles: list[str] | None = None
    status: UserStatus | None = None


class _ProfileUpdate(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    email: Email | None = None
    first_name: str | None = None
    last_name: str | None = None


def user_create_request(fields: Mapping[str, Any]) -> RequestOptions:
    fields = given(fields)
    if not fields.get("password"):
        raise InputValidationError("password", "is required to create a user")
    return RequestOptions(method="POST", url="/api/users", json=_validated_body(_UserWrite, fields))


def user_update_request(path: str, fields: Mapping[str, Any]) -> RequestOptions:
    fields = given(fields, NULLABLE_USER)
    if fields.get("password") is not None:
        raise InputValidationError("password", "is changed with auth.change_password, not here")
    return RequestOptions(method="PUT", url=path, json=_validated_body(_UserWrite, fields))


def profile_update_request(fields: Mapping[str, Any]) -> RequestOptions:
    body = _validated_body(_ProfileUpdate, given(fields, NULLABLE_USER))
    if not body:
        raise InputValidationError("fields", "give at least one field to change")
    return RequestOptions(method="PUT", url="/api/users/me/profile", json=body)


# -- metrics --------------------------------------------------------------------------------
def _utc_iso(value: dt.datetime, field: str) -> str:
    if not isinstance(value, dt.datetime):
        raise InputValidationError(field, "must be a datetime", value=value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def timeseries_request(
    metric_name: str,
    start_time: dt.datetime,
    end_time: dt.datetime,
    resolution: Resolution | None,
    cluster_id: int | str | None,
) -> RequestOptions:
    if not isinstance(metric_name, str) or not metric_name:
        raise InputValidationError("metric_name", "must name a metric")
    start = _utc_iso(start_time, "start_time")
    end = _utc_iso(end_time, "end_time")
    if start_time.replace(tzinfo=start_time.tzinfo or dt.UTC) >= end_time.replace(
        tzinfo=end_time.tzinfo or dt.UTC
    ):
        raise InputValidationError("start_time", "must be before end_time")
    params: dict[str, Any] = {"metric_name": metric_name, "start_time": start, "end_time": end}
    if resolution is not None:
        params["resolution"] = _literal(resolution, ("1m", "5m", "1h", "1d"), "resolution")
    if cluster_id is not None:
        params["cluster_id"] = path_id(cluster_id, "cluster_id")
    return get("/api/metrics/timeseries", params)


# -- SRE ---------------------------------------------------------------------------------
def feedback_request(
    recommendation_id: int | str,
    helpful: bool,
    applied: bool | NotGiven | None,
    comment: str | NotGiven | None,
) -> RequestOptions:
    rid = path_id(recommendation_id, "recommendation_id")
    if not isinstance(helpful, bool):
        raise InputValidationError("helpful", "must be True or False", value=helpful)
    body: dict[str, Any] = {"helpful": helpful}
    extra = given({"applied": applied, "comment": comment})
    if "applied" in extra:
        body["applied"] = bool(extra["applied"])
    if "comment" in extra:
        body["comment"] = str(extra["comment"])
    return RequestOptions(method="POST", url=f"/api/sre/recommendations/{rid}/feedback", json=body)


def confidence(value: float | NotGiven | None) -> float | None:
    if value is None or isinstance(value, NotGiven):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise InputValidationError("min_confidence", "must be a number from 0 to 1", value=value)
    return float(value)


# -- webhooks --------------------------------------------------------------------------------
def webhook_write_request(
    method: str,
    path: str,
    *,
    url: str,
    events: Sequence[WebhookEvent],
    secret: str | NotGiven | None,
    active: bool | NotGiven | None,
    description: str | NotGiven | None,
) -> RequestOptions:
    secret, active, description = _absent(secret), _absent(active), _absent(description)
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise InputValidationError("url", "must be an http(s) URL", value=url)
    if isinstance(events, str) or not events:
        raise InputValidationError("events", "must be a non-empty list of event names")
    for i, event in enumerate(events):
        _literal(event, WEBHOOK_EVENTS, f"events[{i}]")
    body: dict[str, Any] = {"url": url, "events": list(events)}
    if secret is not None:
        if not isinstance(secret, str) or not secret:
            raise InputValidationError("secret", "must be a non-empty string")
        body["secret"] = secret
    if active is not None:
        body["active"] = bool(active)
    if description is not None:
        body["description"] = description
    return RequestOptions(method=method, url=path, json=body)
