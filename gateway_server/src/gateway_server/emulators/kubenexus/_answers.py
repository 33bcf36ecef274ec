"""How KubeNexus answers: the envelope, its pages, its errors, and the
query values its lists and series read."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..._errors import DomainError, InvalidInput
from ...edge import JSONResponse, known_query, query_int
from ._store import Record, page_of

__all__ = ["flag", "instant", "kubeconfig_of", "listing", "number", "ok", "render", "user_view"]


def user_view(user: Record) -> Record:
    return {
        k: user.get(k)
        for k in ("id", "username", "email", "first_name", "last_name", "status", "roles")
    }


def kubeconfig_of(cluster: Record) -> str:
    name = cluster["name"]
    return (
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: {name}\n  cluster:\n    server: https://{name}.k8s.example.test\n"
        f"contexts:\n- name: {name}\n  context:\n    cluster: {name}\n    user: kubenexus\n"
        f"current-context: {name}\n"
    )


def instant(query: Any, field: str) -> float:
    raw = query.get(field) or ""
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{field}: must be an ISO 8601 date-time", {"field": field}) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()


def flag(raw: str, field: str) -> bool:
    if raw not in ("true", "false"):
        raise InvalidInput(f"{field}: must be true or false", {"field": field})
    return raw == "true"


def number(raw: str, field: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise InvalidInput(f"{field}: must be a number from 0 to 1", {"field": field})
    return value


def listing(request: Request, records: list[Record], *filters: str) -> Response:
    """A page of ``records`` as the query asks (``page``, ``limit``, ``sort``, ``order``)."""
    known_query(request, "page", "limit", "sort", "order", *filters)
    order = request.query_params.get("order", "asc")
    if order not in ("asc", "desc"):
        raise InvalidInput("order: must be asc or desc", {"field": "order"})
    page = page_of(
        records,
        page=query_int(request, "page", 1, 1, 1_000_000),
        limit=query_int(request, "limit", 20, 1, 100),
        sort=request.query_params.get("sort") or None,
        order=order,
    )
    body = {"status": "success", "data": page.items, "pagination": page.pagination}
    return _json(request, body, 200)


def ok(request: Request, data: Any, status: int = 200, message: str | None = None) -> Response:
    body: dict[str, Any] = {"status": "success", "data": data}
    if message:
        body["message"] = message
    return _json(request, body, status)


def _json(request: Request, body: Any, status: int) -> Response:
    response = JSONResponse(body, status_code=status)
    response.raw_headers.extend(request.scope.get("kubenexus.limits") or ())
    return response


def render(request: Request, status: int, error: DomainError) -> Response:
    """KubeNexus's error envelope: ``{"status": "error", "error": {code, message, details?}}``."""
    inner: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details:
        inner["details"] = error.details
    response = JSONResponse(
        {"status": "error", "error": inner}, status_code=status, headers=error.headers
    )
    response.raw_headers.extend(request.scope.get("kubenexus.limits") or ())
    return response
