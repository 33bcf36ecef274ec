"""Every Nexthink call as an I/O-free pair: build (and validate) the request,
then turn the answer into the result. The sync and async resources share them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, TypeVar

import httpx
import pydantic

from sdk_core import (
    APIResponse,
    InputValidationError,
    ItemError,
    MultiStatusResult,
    RequestOptions,
    UUIDStr,
    check,
    check_batch,
    check_each,
    input_error_from,
)

from ._models import (
    CampaignRequest,
    DeviceDeletion,
    DeviceDeletionResult,
    DeviceRef,
    Enrichment,
    NQLQueryId,
    TriggerInfo,
    UserRef,
    WindowsSID,
)

M = TypeVar("M", bound=pydantic.BaseModel)

NqlParam = str | int | float | bool | dt.datetime | dt.date
ExportFormat = Literal["csv", "json"]

MAX_ENRICHMENTS = 5_000
MAX_TARGETS = 10_000
MAX_CAMPAIGN_PARAMETERS = 30


# -- shared checks ----------------------------------------------------------------
def nql_id(value: str, field: str) -> str:
    return str(check(value, NQLQueryId, field=field))


def model_list(model: type[M], items: Iterable[Any], field: str) -> list[M]:
    if isinstance(items, (str, bytes, Mapping)):
        raise InputValidationError(field, "must be a list")
    out: list[M] = []
    for i, item in enumerate(items):
        if isinstance(item, model):
            out.append(item)
            continue
        try:
            out.append(model.model_validate(item))
        except pydantic.ValidationError as exc:
            raise input_error_from(exc, f"{field}[{i}]") from None
    return out


def string_map(
    values: Mapping[str, str] | None, field: str, max_items: int | None = None
) -> dict[str, str] | None:
    if values is None:
        return None
    if not isinstance(values, Mapping):
        raise InputValidationError(field, "must be a mapping of name to string")
    if max_items is not None and len(values) > max_items:
        raise InputValidationError(field, f"takes at most {max_items} entries, got {len(values)}")
    for key, value in values.items():
        if not isinstance(key, str) or not key:
            raise InputValidationError(field, f"has a name that is not a non-empty string: {key!r}")
        if not isinstance(value, str):
            raise InputValidationError(f"{field}.{key}", "must be a string", value=value)
    return dict(values)


def int_in(value: int, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputValidationError(
            field, f"must be an integer from {low:,} to {high:,}", value=value
        )
    return value


# -- NQL ---------------------------------------------------------------------------
def nql_value(value: NqlParam, field: str) -> str | int | float | bool:
    """A parameter as the API expects it: strings, numbers and booleans as they
    are; a datetime as ``YYYY-MM-DD HH:MM:SS`` in UTC (naive ones are taken as
    UTC); a date as ``YYYY-MM-DD``."""
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    raise InputValidationError(
        field, f"must be str, int, float, bool, datetime or date, not {type(value).__name__}"
    )


def nql_body(query_id: str, parameters: Mapping[str, NqlParam] | None) -> dict[str, Any]:
    body: dict[str, Any] = {"queryId": nql_id(query_id, "query_id")}
    if parameters:
        if not isinstance(parameters, Mapping):
            raise InputValidationError("parameters", "must be a mapping of name to value")
        params: dict[str, Any] = {}
        for name, value in parameters.items():
            if not isinstance(name, str) or not name:
                raise InputValidationError("parameters", f"has an invalid name: {name!r}")
            params[name] = nql_value(value, f"parameters.{name}")
        body["parameters"] = params
    return body


def execute_request(
    version: int,
    query_id: str,
    parameters: Mapping[str, NqlParam] | None,
    *,
    csv: bool,
    utc_times: bool,
) -> RequestOptions:
    headers = {"Accept": "text/csv" if csv else "application/json"}
    if utc_times:
        headers["x-utc-times"] = "true"
    return RequestOptions(
        method="POST",
        url=f"/api/v{version}/nql/execute",
        json=nql_body(query_id, parameters),
        headers=headers,
        idempotent=True,  # a read-only query: safe to send again
    )


def export_request(
    query_id: str,
    parameters: Mapping[str, NqlParam] | None,
    export_format: ExportFormat | None,
    compressed: bool | None,
) -> RequestOptions:
    body = nql_body(query_id, parameters)
    if export_format is not None:
        if export_format not in ("csv", "json"):
            raise InputValidationError("format", "must be 'csv' or 'json'", value=export_format)
        body["format"] = export_format
    if compressed is not None:
        body["compressed"] = bool(compressed)
    return RequestOptions(method="POST", url="/api/v1/nql/export", json=body)


def status_request(export_id: str) -> RequestOptions:
    if not isinstance(export_id, str) or not export_id.strip() or "/" in export_id:
        raise InputValidationError(
            "export_id", "must be a non-empty id without '/'", value=export_id
        )
    return RequestOptions(method="GET", url=f"/api/v1/nql/status/{export_id}")


# -- enrichment -----------------------------------------------------------------------
_ENRICHMENT_OK = frozenset({207, 400})


def enrichment_request(
    enrichments: Sequence[Enrichment | Mapping[str, Any]], domain: str
) -> tuple[RequestOptions, list[Enrichment]]:
    if not isinstance(domain, str) or not domain.strip():
        raise InputValidationError("domain", "must name the source of the data (e.g. 'ServiceNow')")
    items = model_list(Enrichment, enrichments, "enrichments")
    check_batch(items, field="enrichments", min_items=1, max_items=MAX_ENRICHMENTS)
    body = {"domain": domain, "enrichments": [e.wire() for e in items]}
    return (
        RequestOptions(
            method="POST",
            url="/api/v1/enrichment/data/fields",
            json=body,
            ok_statuses=_ENRICHMENT_OK,
        ),
        items,
    )


def _item_errors(raw: Any) -> list[ItemError]:
    errors = []
    for e in raw or []:
        if isinstance(e, Mapping):
            errors.append(ItemError(str(e.get("message", "failed")), code=e.get("code")))
    return errors or [ItemError("failed")]


def enrichment_result(
    raw: APIResponse[Any], items: list[Enrichment]
) -> MultiStatusResult[Enrichment]:
    body = raw.parsed if isinstance(raw.parsed, Mapping) else {}
    failures: list[tuple[Any, list[ItemError]]] = []
    for entry in body.get("errors") or []:
        ident = (entry.get("identification") or [{}])[0]
        key = (ident.get("name"), str(ident.get("value")))
        failures.append((key, _item_errors(entry.get("errors"))))
    if raw.status_code == 400 and not failures:
        # A malformed request: nothing applied, one reason for all.
        reason = ItemError(str(body.get("message") or "request refused"), code=body.get("code"))
        failures = [(item.key, [reason]) for item in items]
    return MultiStatusResult.from_failures(
        items,
        failures,
        key=lambda e: e.key,
        status_code=raw.status_code,
        response=raw.http_response,
    )


# -- campaigns -------------------------------------------------------------------------
def campaign_request(
    campaign_id: str,
    user_sids: Sequence[str],
    expires_in_minutes: int,
    parameters: Mapping[str, str] | None,
) -> RequestOptions:
    body: dict[str, Any] = {"campaignNqlId": nql_id(campaign_id, "campaign_id")}
    if isinstance(user_sids, str):
        raise InputValidationError("user_sids", "must be a list of SIDs, not a single string")
    check_batch(user_sids, field="user_sids", min_items=1, max_items=MAX_TARGETS)
    body["userSid"] = check_each(user_sids, WindowsSID, field="user_sids")
    body["expiresInMinutes"] = int_in(expires_in_minutes, "expires_in_minutes", 1, 525_600)
    params = string_map(parameters, "parameters", MAX_CAMPAIGN_PARAMETERS)
    if params:
        body["parameters"] = params
    return RequestOptions(
        method="POST", url="/api/v1/euf/campaign/trigger", json=body, ok_statuses=frozenset({207})
    )


def campaign_result(raw: APIResponse[Any]) -> MultiStatusResult[CampaignRequest]:
    body = raw.parsed if isinstance(raw.parsed, Mapping) else {}
    requests = [CampaignRequest.model_validate(r) for r in body.get("requests") or []]
    failures = [
        (id(r), [ItemError(r.message or "not reached")]) for r in requests if not r.request_id
    ]
    return MultiStatusResult.from_failures(
        requests,
        failures,
        key=id,
        status_code=raw.status_code,
        response=raw.http_response,
    )


# -- remote actions ---------------------------------------------------------------------
def remote_action_request(
    remote_action_id: str,
    devices: Sequence[str],
    expires_in_minutes: int,
    params: Mapping[str, str] | None,
    trigger_info: TriggerInfo | Mapping[str, Any] | None,
) -> RequestOptions:
    body: dict[str, Any] = {"remoteActionId": nql_id(remote_action_id, "remote_action_id")}
    if isinstance(devices, str):
        raise InputValidationError(
            "devices", "must be a list of collector ids, not a single string"
        )
    check_batch(devices, field="devices", min_items=1, max_items=MAX_TARGETS)
    body["devices"] = check_each(devices, UUIDStr, field="devices")
    body["expiresInMinutes"] = int_in(expires_in_minutes, "expires_in_minutes", 60, 10_080)
    mapped = string_map(params, "params")
    if mapped:
        body["params"] = mapped
    if trigger_info is not None:
        info = model_list(TriggerInfo, [trigger_info], "trigger_info")[0]
        body["triggerInfo"] = info.wire()
    return RequestOptions(method="POST", url="/api/v1/act/execute", json=body)


def details_request(path: str, nql: str, field: str) -> RequestOptions:
    return RequestOptions(method="GET", url=path, params={"nql-id": nql_id(nql, field)})


# -- workflows -------------------------------------------------------------------------
def _targets(devices: Sequence[Any] | None, users: Sequence[Any] | None) -> None:
    if not devices and not users:
        raise InputValidationError("devices", "give at least one device or user")
    for name, targets in (("devices", devices), ("users", users)):
        if targets is not None:
            if isinstance(targets, str):
                raise InputValidationError(name, "must be a list, not a single string")
            check_batch(targets, field=name, min_items=0, max_items=MAX_TARGETS)


def workflow_v1_request(
    workflow_id: str,
    devices: Sequence[str] | None,
    users: Sequence[str] | None,
    params: Mapping[str, str] | None,
) -> RequestOptions:
    body: dict[str, Any] = {"workflowId": nql_id(workflow_id, "workflow_id")}
    _targets(devices, users)
    if devices:
        body["devices"] = check_each(devices, UUIDStr, field="devices")
    if users:
        body["users"] = check_each(users, WindowsSID, field="users")
    mapped = string_map(params, "params")
    if mapped:
        body["params"] = mapped
    return RequestOptions(method="POST", url="/api/v1/workflows/execute", json=body)


def workflow_v2_request(
    workflow_id: str,
    devices: Sequence[DeviceRef | Mapping[str, Any]] | None,
    users: Sequence[UserRef | Mapping[str, Any]] | None,
    params: Mapping[str, str] | None,
) -> RequestOptions:
    body: dict[str, Any] = {"workflowId": nql_id(workflow_id, "workflow_id")}
    _targets(devices, users)
    if devices:
        body["devices"] = [d.wire() for d in model_list(DeviceRef, devices, "devices")]
    if users:
        body["users"] = [u.wire() for u in model_list(UserRef, users, "users")]
    mapped = string_map(params, "params")
    if mapped:
        body["params"] = mapped
    return RequestOptions(method="POST", url="/api/v2/workflows/execute", json=body)


def workflow_event_request(
    workflow_uuid: str, execution_uuid: str, parameters: Mapping[str, str] | None
) -> RequestOptions:
    w = check(workflow_uuid, UUIDStr, field="workflow_uuid")
    e = check(execution_uuid, UUIDStr, field="execution_uuid")
    body: dict[str, Any] = {}
    mapped = string_map(parameters, "parameters")
    if mapped:
        body["parameters"] = mapped
    return RequestOptions(
        method="POST", url=f"/api/v1/workflows/workflows/{w}/execution/{e}/trigger", json=body
    )


# -- data management ---------------------------------------------------------------------
def deletion_request(
    devices: Sequence[DeviceDeletion | Mapping[str, Any] | str],
) -> tuple[RequestOptions, list[DeviceDeletion]]:
    if isinstance(devices, str):
        raise InputValidationError("devices", "must be a list, not a single string")
    items = model_list(
        DeviceDeletion, [{"uid": d} if isinstance(d, str) else d for d in devices], "devices"
    )
    check_batch(items, field="devices", min_items=1, max_items=MAX_TARGETS)
    body = {"devices": [d.wire() for d in items]}
    return RequestOptions(
        method="POST", url="/api/v1/data-management/device/deletions", json=body
    ), items


def deletion_result(raw: APIResponse[Any]) -> MultiStatusResult[DeviceDeletionResult]:
    body = raw.parsed if isinstance(raw.parsed, Mapping) else {}
    results = [DeviceDeletionResult.model_validate(d) for d in body.get("devices") or []]
    failures = [
        (id(r), [ItemError(f"device {r.uid}: {r.status}", code=str(r.status))])
        for r in results
        if r.status != "SCHEDULED"
    ]
    return MultiStatusResult.from_failures(
        results, failures, key=id, status_code=raw.status_code, response=raw.http_response
    )


# -- errors ------------------------------------------------------------------------------
def remote_action_disabled(response: httpx.Response) -> bool:
    return response.status_code == 403 and response.request.url.path.endswith("/act/execute")


def remote_action_id_of(request: httpx.Request) -> str | None:
    try:
        value = json.loads(request.content).get("remoteActionId")
    except (ValueError, AttributeError):
        return None
    return str(value) if value else None
