"""The KubeNexus emulator: sign-in (JWTs that expire on the server's clock,
rotating refresh tokens, API keys; ``_auth.py``), users and roles with
permissions, clusters with the documented filters and envelope pagination,
health checks, and webhooks delivered with real HMAC-SHA256 signatures
(``_webhooks.py``); metrics, alerts and the SRE agent are ``_monitoring.py``,
the state ``_store.py``, the bodies ``_bodies.py``, the answers ``_answers.py``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..._errors import InvalidInput
from ...edge import JSONResponse, RateLimiter, read_json
from ...security import hash_secret, new_secret
from .._common import Context, VendorApp, by_method, refuse_over_limit, vendor_app
from ._answers import kubeconfig_of, listing, ok, render, user_view
from ._auth import Caller, Sessions
from ._bodies import (
    ChangePassword,
    ClusterPatch,
    ClusterWrite,
    Login,
    Profile,
    Refresh,
    UserCreate,
    UserUpdate,
    WebhookWrite,
    fields_of,
)
from ._monitoring import Monitoring
from ._store import Store, hash_password, iso, password_matches
from ._webhooks import Deliveries

__all__ = ["KubeNexusEmulator", "credentials"]


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
        self.monitoring = Monitoring(self.store, self.call, context.max_body_bytes)

    async def stop(self) -> None:
        await self.deliveries.stop()

    def apps(self) -> dict[str, VendorApp]:
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
            *self.monitoring.routes(),
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
        body: Login = await self.body(request, Login)
        user = self.sessions.login(body.username, body.password)
        tokens = self.sessions.issue(user, remember=bool(body.remember_me))
        return JSONResponse({**tokens, "user": user_view(user)})

    async def refresh(self, request: Request) -> Response:
        body: Refresh = await self.body(request, Refresh)
        user, tokens = self.sessions.refresh(body.refresh_token)
        return JSONResponse({**tokens, "user": user_view(user)})

    async def logout(self, request: Request) -> Response:
        self.sessions.logout(self.call(request))
        return ok(request, None, message="Logged out")

    async def change_password(self, request: Request) -> Response:
        caller = self.call(request)
        body: ChangePassword = await self.body(request, ChangePassword)
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
        return listing(request, [user_view(u) for u in rows], "status", "search")

    async def create_user(self, request: Request) -> Response:
        self.call(request, "user:create")
        body: UserCreate = await self.body(request, UserCreate)
        return ok(request, user_view(self.store.new_user(fields_of(body))), 201, "User created")

    async def my_profile(self, request: Request) -> Response:
        caller = self.call(request)
        if request.method == "PUT":
            body: Profile = await self.body(request, Profile)
            if not body.model_fields_set:
                raise InvalidInput("give at least one field", {"field": "body"})
            caller.user.update(fields_of(body))
        return ok(request, user_view(caller.user))

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
            body: UserUpdate = await self.body(request, UserUpdate)
            self.store.update_user(user, fields_of(body))
        return ok(request, user_view(user))

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
        body: ClusterWrite = await self.body(request, ClusterWrite)
        cluster = self.store.new_cluster(fields_of(body))
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
            model = ClusterWrite if request.method == "PUT" else ClusterPatch
            body = await self.body(request, model)
            if not body.model_fields_set:
                raise InvalidInput("give at least one field", {"field": "body"})
            self.store.change_cluster(cluster, fields_of(body))
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
        text = cluster.get("kubeconfig") or kubeconfig_of(cluster)
        return ok(request, {"kubeconfig": text})

    # -- webhooks ----------------------------------------------------------------------------
    async def list_webhooks(self, request: Request) -> Response:
        self.call(request, "cluster:read")
        return listing(request, [dict(w) for w in self.store.webhooks.rows.values()])

    async def create_webhook(self, request: Request) -> Response:
        self.call(request, "cluster:update")
        body: WebhookWrite = await self.body(request, WebhookWrite)
        fields = fields_of(body)
        secret = fields.pop("secret", None) or new_secret()
        hook = self.store.webhooks.add(
            {"active": True, "description": None, **fields, "created_at": iso(self.clock())}
        )
        self.store.secrets[hook["id"]] = secret
        shown = dict(hook) | (
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
            body: WebhookWrite = await self.body(request, WebhookWrite)
            fields = fields_of(body)
            if "secret" in fields:
                self.store.secrets[hook["id"]] = fields.pop("secret")
            hook.update(fields)
        return ok(request, dict(hook))


def credentials(seed: Mapping[str, Any], root: str) -> dict[str, str]:
    """What the client needs to call this emulator at ``root``: its first user."""
    user = seed["users"][0]
    return {"base_url": root, "username": user["username"], "password": user["password"]}
