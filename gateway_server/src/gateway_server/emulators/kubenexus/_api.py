"""The KubeNexus emulator: sign-in (JWTs that expire on the server's clock,
rotating refresh tokens, API keys), users and roles with permissions,
clusters with the documented filters and envelope pagination, health checks,
metrics, alerts, the SRE agent's findings, and webhooks delivered with real
HMAC-SHA256 signatures (``_webhooks.py``)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import Field, model_validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..._errors import DomainError, InvalidInput
from ...edge import Body, JSONResponse, RateLimiter, known_query, query_int, read_json
from ...security import hash_secret, new_secret
from .._common import Context, VendorApp, by_method, refuse_over_limit, vendor_app
from ._auth import Caller, Sessions
from ._store import Record, Store, Table, hash_password, iso, page_of, password_matches
from ._webhooks import Deliveries

__all__ = ["credentials", "KubeNexusEmulator"]

Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")]
Text = Annotated[str, Field(min_length=1)]
UserStatus = Literal["active", "inactive", "suspended"]
ClusterType = Literal["on_premise", "eks", "gke", "aks"]
Event = Literal[
    "cluster.created",
    "cluster.updated",
    "cluster.deleted",
    "alert.triggered",
    "anomaly.detected",
    "recommendation.created",
]
RESOLUTIONS = {"1m": 60, "5m": 300, "1h": 3600, "1d": 86400}
MAX_POINTS = 1000


class _Login(Body):
    username: Text
    password: Text
    remember_me: bool | None = None


class _Refresh(Body):
    refresh_token: Text


class _ChangePassword(Body):
    current_password: Text
    new_password: Annotated[str, Field(min_length=8)]


class _UserCreate(Body):
    username: Text
    email: Email
    password: Annotated[str, Field(min_length=8)]
    first_name: str | None = None
    last_name: str | None = None
    roles: list[str] | None = None
    status: UserStatus | None = None


class _UserUpdate(Body):
    username: Text
    email: Email
    first_name: str | None = None
    last_name: str | None = None
    roles: list[str] | None = None
    status: UserStatus | None = None


class _Profile(Body):
    email: Email | None = None
    first_name: str | None = None
    last_name: str | None = None


class _ClusterPatch(Body):
    name: Text | None = None
    description: str | None = None
    region: str | None = None
    kubeconfig: Text | None = None
    cloud_provider_id: str | int | None = None
    tags: dict[str, str] | None = None


class _ClusterWrite(_ClusterPatch):
    name: Text
    cluster_type: ClusterType

    @model_validator(mode="after")
    def _needs(self) -> Self:
        if self.cluster_type == "on_premise" and self.kubeconfig is None:
            raise ValueError("kubeconfig: is required for cluster_type 'on_premise'")
        if self.cluster_type != "on_premise" and self.cloud_provider_id is None:
            raise ValueError(
                f"cloud_provider_id: is required for cluster_type {self.cluster_type!r}"
            )
        return self


class _Feedback(Body):
    helpful: bool
    applied: bool | None = None
    comment: str | None = None


class _WebhookWrite(Body):
    url: Annotated[str, Field(pattern=r"^https?://")]
    events: Annotated[list[Event], Field(min_length=1)]
    secret: Text | None = None
    active: bool | None = None
    description: str | None = None


def _fields(body: Body) -> dict[str, Any]:
    return body.model_dump(exclude_unset=True)


class KubeNexusEmulator:
    name = "kubenexus"

    def __init__(self, context: Context) -> None:
        seed = context.seed
        self.context = context
        self.clock = context.clock
        self.store = Store(seed, self.clock)
        for raw in seed.get("users", ()):
            user = self.store.user_by_name(raw["username"])
            for key in raw.get("api_keys", ()):
                assert user is not None
                self.store.api_keys[hash_secret(key)] = user["id"]
        self.sessions = Sessions(self.store, self.clock, int(seed.get("access_token_ttl", 3600)))
        self.limiter = RateLimiter(int(seed.get("requests_per_minute", 1000)), 60, self.clock)
        self.deliveries = Deliveries(self.store, self.clock)

    async def stop(self) -> None:
        await self.deliveries.stop()

    def apps(self) -> dict[str, VendorApp]:
        s = self.store
        routes: list[BaseRoute] = [
            Route("/auth/login", self.login, methods=["POST"]),
            Route("/auth/refresh", self.refresh, methods=["POST"]),
            Route("/auth/logout", self.logout, methods=["POST"]),
            Route("/auth/change-password", self.change_password, methods=["POST"]),
            by_method("/api/users", GET=self.list_users, POST=self.create_user),
            Route("/api/users/me/profile", self.my_profile, methods=["GET", "PUT"]),
            Route("/api/users/{id}", self.one_user, methods=["GET", "PUT", "DELETE"]),
            Route("/api/roles", self.list_roles),
            by_method("/api/clusters", GET=self.list_clusters, POST=self.create_cluster),
            Route(
                "/api/clusters/{id}", self.one_cluster, methods=["GET", "PUT", "PATCH", "DELETE"]
            ),
            Route("/api/clusters/{id}/health-check", self.health_check, methods=["POST"]),
            Route("/api/clusters/{id}/kubeconfig", self.kubeconfig),
            Route("/api/metrics/clusters", self.cluster_metrics),
            Route("/api/metrics/timeseries", self.timeseries),
            Route("/api/alerts", self.lister(s.alerts, "severity", "status", "cluster_id")),
            Route("/api/alerts/{id}/acknowledge", self.acknowledge_alert, methods=["POST"]),
            Route(
                "/api/sre/anomalies", self.lister(s.anomalies, "cluster_id", "severity", "resolved")
            ),
            Route("/api/sre/anomalies/{id}", self.getter(s.anomalies)),
            Route(
                "/api/sre/anomalies/{id}/acknowledge", self.acknowledge_anomaly, methods=["POST"]
            ),
            Route(
                "/api/sre/recommendations",
                self.lister(s.recommendations, "cluster_id", "category", "min_confidence"),
            ),
            Route(
                "/api/sre/recommendations/{id}/feedback",
                self.recommendation_feedback,
                methods=["POST"],
            ),
            Route("/api/sre/problems", self.lister(s.problems, "cluster_id", "status")),
            Route("/api/sre/problems/{id}", self.getter(s.problems)),
            by_method("/api/webhooks", GET=self.list_webhooks, POST=self.create_webhook),
            Route("/api/webhooks/{id}", self.one_webhook, methods=["GET", "PUT", "DELETE"]),
        ]
        return {self.name: vendor_app(routes, render)}

    # -- the caller, its limits and its rights -------------------------------------------
    def call(self, request: Request, permission: str | None = None) -> Caller:
        caller = self.sessions.caller(
            request.headers.get("authorization"), request.headers.get("x-api-key")
        )
        verdict = self.limiter.hit(str(caller.user["id"]))
        request.scope["kubenexus.limits"] = verdict.raw_headers()
        refuse_over_limit(verdict, self.clock(), "RATE_LIMIT_EXCEEDED")
        if permission is not None:
            self.sessions.require(caller, permission)
        return caller

    async def body(self, request: Request, model: type[Any]) -> Any:
        return await read_json(request, model, self.context.max_body_bytes)

    # -- auth ------------------------------------------------------------------------------
    async def login(self, request: Request) -> Response:
        body: _Login = await self.body(request, _Login)
        user = self.sessions.login(body.username, body.password)
        tokens = self.sessions.issue(user, remember=bool(body.remember_me))
        return JSONResponse({**tokens, "user": _user(user)})

    async def refresh(self, request: Request) -> Response:
        body: _Refresh = await self.body(request, _Refresh)
        user, tokens = self.sessions.refresh(body.refresh_token)
        return JSONResponse({**tokens, "user": _user(user)})

    async def logout(self, request: Request) -> Response:
        self.sessions.logout(self.call(request))
        return ok(request, None, message="Logged out")

    async def change_password(self, request: Request) -> Response:
        caller = self.call(request)
        body: _ChangePassword = await self.body(request, _ChangePassword)
        uid = caller.user["id"]
        if not password_matches(self.store.passwords[uid], body.current_password):
            raise InvalidInput(
                "current_password: is wrong",
                {"field": "current_password"},
                code="INVALID_CREDENTIALS",
            )
        self.store.passwords[uid] = hash_password(body.new_password)
        return ok(request, None, message="Password changed")

    # -- users and roles -------------------------------------------------------------------
    async def list_users(self, request: Request) -> Response:
        self.call(request, "user:read")
        search = (request.query_params.get("search") or "").lower()
        rows = self.store.users.where(
            status=request.query_params.get("status"),
            search=(lambda u: search in f"{u['username']} {u.get('email', '')}".lower())
            if search
            else None,
        )
        return listing(request, [_user(u) for u in rows], "status", "search")

    async def create_user(self, request: Request) -> Response:
        self.call(request, "user:create")
        body: _UserCreate = await self.body(request, _UserCreate)
        return ok(request, _user(self.store.new_user(_fields(body))), 201, "User created")

    async def my_profile(self, request: Request) -> Response:
        caller = self.call(request)
        if request.method == "PUT":
            body: _Profile = await self.body(request, _Profile)
            if not body.model_fields_set:
                raise InvalidInput("give at least one field", {"field": "body"})
            caller.user.update(_fields(body))
        return ok(request, _user(caller.user))

    async def one_user(self, request: Request) -> Response:
        method = request.method
        need = {"GET": "user:read", "PUT": "user:update", "DELETE": "user:delete"}[method]
        self.call(request, need)
        user = self.store.users.get(request.path_params["id"])
        if method == "DELETE":
            self.store.users.delete(user["id"])
            self.store.passwords.pop(user["id"], None)
            return ok(request, None, message="User deleted")
        if method == "PUT":
            body: _UserUpdate = await self.body(request, _UserUpdate)
            self.store.update_user(user, _fields(body))
        return ok(request, _user(user))

    async def list_roles(self, request: Request) -> Response:
        self.call(request)
        return listing(request, list(self.store.roles.rows.values()))

    # -- clusters ----------------------------------------------------------------------------
    async def list_clusters(self, request: Request) -> Response:
        self.call(request, "cluster:read")
        q = request.query_params
        search = (q.get("search") or "").lower()
        rows = self.store.clusters.where(
            status=q.get("status"),
            provider=q.get("provider"),
            region=q.get("region"),
            search=(lambda c: search in f"{c['name']} {c.get('description') or ''}".lower())
            if search
            else None,
        )
        views = [self.store.view_cluster(c) for c in rows]
        return listing(request, views, "status", "provider", "region", "search")

    async def create_cluster(self, request: Request) -> Response:
        self.call(request, "cluster:create")
        body: _ClusterWrite = await self.body(request, _ClusterWrite)
        cluster = self.store.new_cluster(_fields(body))
        view = self.store.view_cluster(cluster)
        self.deliveries.emit("cluster.created", view)
        return ok(request, view, 201, "Cluster created")

    async def one_cluster(self, request: Request) -> Response:
        need = {"GET": "cluster:read", "DELETE": "cluster:delete"}.get(
            request.method, "cluster:update"
        )
        self.call(request, need)
        cluster = self.store.clusters.get(request.path_params["id"])
        if request.method == "DELETE":
            self.store.clusters.delete(cluster["id"])
            self.deliveries.emit("cluster.deleted", self.store.view_cluster(cluster))
            return ok(request, None, message="Cluster deleted")
        if request.method in ("PUT", "PATCH"):
            model = _ClusterWrite if request.method == "PUT" else _ClusterPatch
            body = await self.body(request, model)
            if not body.model_fields_set:
                raise InvalidInput("give at least one field", {"field": "body"})
            self.store.change_cluster(cluster, _fields(body))
            self.deliveries.emit("cluster.updated", self.store.view_cluster(cluster))
        return ok(request, self.store.view_cluster(cluster))

    async def health_check(self, request: Request) -> Response:
        self.call(request, "cluster:update")
        cluster = self.store.clusters.get(request.path_params["id"])
        health = self.store.health(cluster)
        if not health["healthy"]:
            alert = self.store.raise_alert(cluster, "; ".join(health["errors"]) or "unhealthy")
            if alert is not None:
                self.deliveries.emit("alert.triggered", alert)
        return ok(request, health)

    async def kubeconfig(self, request: Request) -> Response:
        self.call(request, "cluster:read")
        cluster = self.store.clusters.get(request.path_params["id"])
        text = cluster.get("kubeconfig") or _kubeconfig(cluster)
        return ok(request, {"kubeconfig": text})

    # -- metrics -----------------------------------------------------------------------------
    async def cluster_metrics(self, request: Request) -> Response:
        self.call(request, "cluster:read")
        known_query(request, "cluster_id")
        wanted = request.query_params.get("cluster_id")
        clusters = (
            [self.store.clusters.get(wanted)] if wanted else self.store.clusters.rows.values()
        )
        now = iso(self.clock())
        data = [
            {
                "cluster_id": c["id"],
                "cpu_usage": float(c.get("metrics", {}).get("cpu_usage", 0.0)),
                "memory_usage": float(c.get("metrics", {}).get("memory_usage", 0.0)),
                "pod_count": int(c.get("metrics", {}).get("pod_count", 0)),
                "node_count": int(c.get("node_count") or 0),
                "timestamp": now,
            }
            for c in clusters
        ]
        return ok(request, data)

    async def timeseries(self, request: Request) -> Response:
        self.call(request, "cluster:read")
        known_query(request, "metric_name", "start_time", "end_time", "resolution", "cluster_id")
        q = request.query_params
        name = q.get("metric_name") or ""
        if not name:
            raise InvalidInput("metric_name: is required", {"field": "metric_name"})
        start, end = _instant(q, "start_time"), _instant(q, "end_time")
        resolution = q.get("resolution", "5m")
        if resolution not in RESOLUTIONS or end <= start:
            field = "resolution" if resolution not in RESOLUTIONS else "end_time"
            raise InvalidInput(f"{field}: invalid", {"field": field})
        step = RESOLUTIONS[resolution]
        count = int((end - start) // step) + 1
        if count > MAX_POINTS:
            raise InvalidInput(
                f"{count} points: at most {MAX_POINTS}; use a coarser resolution",
                {"field": "resolution"},
            )
        cluster_id = q.get("cluster_id")
        base = 0.0
        if cluster_id:
            base = float(self.store.clusters.get(cluster_id).get("metrics", {}).get(name, 0.0))
        points = [
            {
                "timestamp": iso(start + i * step),
                "value": round(base + 5 * math.sin((start + i * step) / 3600), 3),
            }
            for i in range(count)
        ]
        series = {
            "metric_name": name,
            "resolution": resolution,
            "cluster_id": int(cluster_id) if cluster_id and cluster_id.isdigit() else cluster_id,
            "points": points,
        }
        return ok(request, series)

    # -- alerts and the SRE agent --------------------------------------------------------
    def lister(self, table: Table, *filters: str) -> Any:
        async def endpoint(request: Request) -> Response:
            self.call(request, "cluster:read")
            q = request.query_params
            given: dict[str, Any] = {
                f: q.get(f) for f in filters if f not in ("resolved", "min_confidence")
            }
            if "resolved" in filters and q.get("resolved") is not None:
                flag = _flag(q.get("resolved", ""), "resolved")
                given["resolved"] = lambda r: bool(r.get("resolved")) == flag
            if "min_confidence" in filters and q.get("min_confidence") is not None:
                low = _number(q.get("min_confidence", ""), "min_confidence")
                given["min_confidence"] = lambda r: float(r.get("confidence") or 0) >= low
            return listing(request, table.where(**given), *filters)

        return endpoint

    def getter(self, table: Table) -> Any:
        async def endpoint(request: Request) -> Response:
            self.call(request, "cluster:read")
            return ok(request, table.get(request.path_params["id"]))

        return endpoint

    async def acknowledge_alert(self, request: Request) -> Response:
        caller = self.call(request, "cluster:update")
        alert = self.store.alerts.get(request.path_params["id"])
        if alert.get("status") != "acknowledged":
            alert |= {
                "status": "acknowledged",
                "acknowledged_at": iso(self.clock()),
                "acknowledged_by": caller.user["username"],
            }
        return ok(request, alert)

    async def acknowledge_anomaly(self, request: Request) -> Response:
        self.call(request, "cluster:update")
        anomaly = self.store.anomalies.get(request.path_params["id"])
        anomaly["acknowledged"] = True
        return ok(request, anomaly)

    async def recommendation_feedback(self, request: Request) -> Response:
        caller = self.call(request, "cluster:update")
        recommendation = self.store.recommendations.get(request.path_params["id"])
        body: _Feedback = await self.body(request, _Feedback)
        recommendation.setdefault("feedback", []).append(
            {**_fields(body), "by": caller.user["username"], "at": iso(self.clock())}
        )
        return ok(request, recommendation, message="Feedback recorded")

    # -- webhooks ----------------------------------------------------------------------------
    async def list_webhooks(self, request: Request) -> Response:
        self.call(request, "cluster:read")
        return listing(request, [_webhook(w) for w in self.store.webhooks.rows.values()])

    async def create_webhook(self, request: Request) -> Response:
        self.call(request, "cluster:update")
        body: _WebhookWrite = await self.body(request, _WebhookWrite)
        fields = _fields(body)
        secret = fields.pop("secret", None) or new_secret()
        hook = self.store.webhooks.add(
            {"active": True, "description": None, **fields, "created_at": iso(self.clock())}
        )
        self.store.secrets[hook["id"]] = secret
        shown = _webhook(hook) | (
            {} if body.secret else {"secret": secret}
        )  # a made secret is shown once
        return ok(request, shown, 201, "Webhook created")

    async def one_webhook(self, request: Request) -> Response:
        need = "cluster:read" if request.method == "GET" else "cluster:update"
        self.call(request, need)
        hook = self.store.webhooks.get(request.path_params["id"])
        if request.method == "DELETE":
            self.store.webhooks.delete(hook["id"])
            self.store.secrets.pop(hook["id"], None)
            return ok(request, None, message="Webhook deleted")
        if request.method == "PUT":
            body: _WebhookWrite = await self.body(request, _WebhookWrite)
            fields = _fields(body)
            if "secret" in fields:
                self.store.secrets[hook["id"]] = fields.pop("secret")
            hook.update(fields)
        return ok(request, _webhook(hook))


def credentials(seed: Mapping[str, Any], root: str) -> dict[str, str]:
    """What the client needs to call this emulator at ``root``: its first user."""
    user = seed["users"][0]
    return {"base_url": root, "username": user["username"], "password": user["password"]}


# -- answers ---------------------------------------------------------------------------------
def _user(user: Record) -> Record:
    return {
        k: user.get(k)
        for k in ("id", "username", "email", "first_name", "last_name", "status", "roles")
    }


def _webhook(hook: Record) -> Record:
    return dict(hook)


def _kubeconfig(cluster: Record) -> str:
    name = cluster["name"]
    return (
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: {name}\n  cluster:\n    server: https://{name}.k8s.example.test\n"
        f"contexts:\n- name: {name}\n  context:\n    cluster: {name}\n    user: kubenexus\n"
        f"current-context: {name}\n"
    )


def _instant(query: Any, field: str) -> float:
    raw = query.get(field) or ""
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{field}: must be an ISO 8601 date-time", {"field": field}) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()


def _flag(raw: str, field: str) -> bool:
    if raw not in ("true", "false"):
        raise InvalidInput(f"{field}: must be true or false", {"field": field})
    return raw == "true"


def _number(raw: str, field: str) -> float:
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
