"""A stand-in for the KubeNexus platform at the HTTP edge (respx), on the test's fake clock.

Login with access and refresh tokens (TOKEN_EXPIRED once an access token's
hour is up), API keys, the {status, data, message} envelope with page/limit
pagination, stateful clusters, users and webhooks, and X-RateLimit-* headers.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections import deque
from typing import Any

import httpx

from tests.support import FakeClock

HOST = "api.kubenexus.example.com"
BASE = f"https://{HOST}"
USERNAME = "ada"
PASSWORD = "correct-horse-battery"
API_KEY = "kn_live_0123456789abcdef"


def ok(data: Any, status: int = 200, message: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"status": "success", "data": data}
    if message:
        body["message"] = message
    return httpx.Response(status, json=body)


def fail(status: int, code: str, message: str, details: Any = None) -> httpx.Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return httpx.Response(status, json={"status": "error", "error": error})


class FakeKubeNexus:
    def __init__(self, clock: FakeClock, *, clusters: int = 0, token_lifetime: int = 3600) -> None:
        self.clock = clock
        self.token_lifetime = token_lifetime
        self.access: dict[str, float] = {}
        self.refresh: set[str] = set()
        self.logins: list[httpx.Request] = []
        self.refreshes: list[httpx.Request] = []
        self.requests: list[httpx.Request] = []
        self.forced: deque[httpx.Response] = deque()
        self.password = PASSWORD
        self._ids = itertools.count(1)
        self.clusters: dict[str, dict[str, Any]] = {}
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {
            "1": {"id": 1, "username": USERNAME, "email": "ada@example.com", "first_name": "Ada",
                  "last_name": "Lovelace", "status": "active", "roles": ["admin"]},
        }  # fmt: skip
        for i in range(clusters):
            self._add_cluster({"name": f"cluster-{i:03d}", "cluster_type": "eks", "cloud_provider_id": 7,
                               "region": "eu-west-1"})  # fmt: skip

    # -- helpers ------------------------------------------------------------------------
    def _add_cluster(self, body: dict[str, Any]) -> dict[str, Any]:
        cid = next(self._ids)
        cluster = {"id": cid, "status": "active", "provider": {"eks": "aws", "gke": "gcp", "aks": "azure"}.get(
            body["cluster_type"], "on_premise"), "tags": {}, "created_at": "2024-06-01T10:00:00Z", **body}  # fmt: skip
        cluster.pop("kubeconfig", None)
        self.clusters[str(cid)] = cluster
        return cluster

    def _issue(self) -> dict[str, Any]:
        n = next(self._ids)
        access, refresh = f"eyJ.access.{n}", f"refresh-{n}"
        self.access[access] = self.clock.monotonic() + self.token_lifetime
        self.refresh.add(refresh)
        return {"access_token": access, "refresh_token": refresh, "token_type": "bearer",
                "expires_in": self.token_lifetime, "user": self.users["1"]}  # fmt: skip

    def _page(self, request: httpx.Request, items: list[Any]) -> httpx.Response:
        params = request.url.params
        page = int(params.get("page", 1))
        limit = int(params.get("limit", 20))
        sort = params.get("sort")
        if sort:
            items = sorted(
                items, key=lambda x: str(x.get(sort)), reverse=params.get("order") == "desc"
            )
        pages = math.ceil(len(items) / limit) if items else 0
        data = items[(page - 1) * limit : page * limit]
        return httpx.Response(200, json={
            "status": "success", "data": data,
            "pagination": {"page": page, "limit": limit, "total": len(items), "pages": pages,
                           "has_next": page < pages, "has_prev": page > 1},
        })  # fmt: skip

    # -- the service ----------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        response = self.forced.popleft() if self.forced else self._answer(request)
        response.headers.setdefault("X-RateLimit-Limit", "1000")
        response.headers.setdefault("X-RateLimit-Remaining", str(1000 - len(self.requests)))
        response.headers.setdefault("X-RateLimit-Reset", str(int(self.clock.time()) + 3600))
        return response

    def _authenticated(self, request: httpx.Request) -> httpx.Response | None:
        if request.headers.get("x-api-key") == API_KEY:
            return None
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ")
        if token not in self.access:
            return fail(401, "UNAUTHORIZED", "Authentication required")
        if self.clock.monotonic() >= self.access[token]:
            return fail(401, "TOKEN_EXPIRED", "JWT token has expired")
        return None

    def _answer(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        body = json.loads(request.content) if request.content else {}
        if path == "/auth/login":
            self.logins.append(request)
            if body.get("username") != USERNAME or body.get("password") != self.password:
                return fail(401, "INVALID_CREDENTIALS", "Invalid username or password")
            return httpx.Response(200, json=self._issue())
        if path == "/auth/refresh":
            self.refreshes.append(request)
            if body.get("refresh_token") not in self.refresh:
                return fail(401, "TOKEN_EXPIRED", "Refresh token expired")
            self.refresh.discard(body["refresh_token"])
            return httpx.Response(200, json=self._issue())
        denied = self._authenticated(request)
        if denied is not None:
            return denied
        if path == "/auth/logout":
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            self.access.pop(token, None)
            return ok(None, message="Logged out")
        if path == "/auth/change-password":
            if body["current_password"] != self.password:
                return fail(400, "INVALID_CREDENTIALS", "Current password is wrong")
            self.password = body["new_password"]
            return ok(None, message="Password changed")
        if path == "/api/clusters" and method == "GET":
            items = list(self.clusters.values())
            for f in ("status", "provider", "region"):
                if f in request.url.params:
                    items = [c for c in items if c.get(f) == request.url.params[f]]
            if "search" in request.url.params:
                items = [c for c in items if request.url.params["search"] in c["name"]]
            return self._page(request, items)
        if path == "/api/clusters" and method == "POST":
            if any(c["name"] == body["name"] for c in self.clusters.values()):
                return fail(409, "CONFLICT", f"A cluster named {body['name']} exists")
            return ok(self._add_cluster(body), 201, "Cluster created")
        match = re.fullmatch(r"/api/clusters/([^/]+)(/health-check|/kubeconfig)?", path)
        if match:
            cid, tail = match.groups()
            cluster = self.clusters.get(cid)
            if cluster is None:
                return fail(404, "CLUSTER_NOT_FOUND", f"Cluster {cid} doesn't exist")
            if tail == "/health-check":
                return ok({"cluster_id": cluster["id"], "status": "healthy", "healthy": True, "node_count": 3,
                           "ready_nodes": 3, "version": "1.30.2", "last_check": "2024-06-01T10:00:00Z",
                           "errors": [], "warnings": ["node-2 disk 81%"]})  # fmt: skip
            if tail == "/kubeconfig":
                return ok({"kubeconfig": f"apiVersion: v1\nclusters:\n- name: {cluster['name']}\n"})
            if method == "GET":
                return ok(cluster)
            if method == "PUT":
                body.pop("kubeconfig", None)
                cluster.clear()
                cluster.update({"id": int(cid), "status": "active", "tags": {}, **body})
                return ok(cluster)
            if method == "PATCH":
                if "name" in body and body["name"] == "":
                    return fail(
                        422, "VALIDATION_ERROR", "Invalid", [{"field": "name", "message": "empty"}]
                    )
                body.pop("kubeconfig", None)
                cluster.update(body)
                return ok(cluster)
            if method == "DELETE":
                del self.clusters[cid]
                return httpx.Response(204)
        if path == "/api/users/me/profile":
            if method == "PUT":
                self.users["1"].update(body)
            return ok(self.users["1"])
        if path == "/api/users" and method == "GET":
            return self._page(request, list(self.users.values()))
        if path == "/api/users" and method == "POST":
            if "@" not in body["email"]:
                return fail(
                    422, "VALIDATION_ERROR", "Validation failed", {"fields": {"email": "invalid"}}
                )
            uid = str(next(self._ids))
            user = {"id": int(uid), "status": "active", "roles": [], **body}
            user.pop("password")
            self.users[uid] = user
            return ok(user, 201)
        match = re.fullmatch(r"/api/users/([^/]+)", path)
        if match:
            found = self.users.get(match.group(1))
            if found is None:
                return fail(404, "NOT_FOUND", "No such user")
            if method == "PUT":
                found.update(body)
            if method == "DELETE":
                del self.users[match.group(1)]
                return ok(None)
            return ok(found)
        if path == "/api/roles":
            return self._page(request, [
                {"id": 1, "name": "admin", "permissions": ["cluster:read", "cluster:create", "cluster:update",
                                                           "cluster:delete", "user:read", "user:create"]},
                {"id": 2, "name": "viewer", "permissions": ["cluster:read", "cloud_provider:read"]},
            ])  # fmt: skip
        if path == "/api/metrics/clusters":
            return ok([{"cluster_id": 1, "cpu_usage": 0.42, "memory_usage": 0.61, "pod_count": 88, "node_count": 3,
                        "timestamp": "2024-06-01T10:00:00Z"}])  # fmt: skip
        if path == "/api/metrics/timeseries":
            p = request.url.params
            return ok({"metric_name": p["metric_name"], "resolution": p.get("resolution", "5m"),
                       "cluster_id": p.get("cluster_id"),
                       "points": [{"timestamp": p["start_time"], "value": 0.4},
                                  {"timestamp": p["end_time"], "value": 0.5}]})  # fmt: skip
        if path == "/api/alerts":
            alerts = [{"id": i, "title": f"alert {i}", "severity": "high" if i % 2 else "low", "status": "open",
                       "cluster_id": 1} for i in range(1, 6)]  # fmt: skip
            if "severity" in request.url.params:
                alerts = [a for a in alerts if a["severity"] == request.url.params["severity"]]
            return self._page(request, alerts)
        match = re.fullmatch(r"/api/(alerts|sre/anomalies)/([^/]+)/acknowledge", path)
        if match:
            return ok({"id": int(match.group(2)), "status": "acknowledged", "acknowledged": True})
        if path == "/api/sre/anomalies":
            return self._page(request, [{"id": 1, "cluster_id": 1, "severity": "critical", "metric_name": "cpu",
                                         "resolved": False, "detected_at": "2024-06-01T10:00:00Z"}])  # fmt: skip
        if path.startswith("/api/sre/anomalies/"):
            return ok({"id": int(path.rsplit("/", 1)[1]), "cluster_id": 1, "severity": "critical"})
        if path == "/api/sre/recommendations":
            return self._page(request, [{"id": 9, "cluster_id": 1, "category": "cost", "title": "Right-size",
                                         "confidence": 0.91}])  # fmt: skip
        if path.endswith("/feedback"):
            return ok({"recommendation_id": 9, "recorded": True})
        if path == "/api/sre/problems":
            return self._page(
                request,
                [{"id": 3, "title": "Pods crash-looping", "status": "open", "anomaly_ids": [1]}],
            )
        if path.startswith("/api/sre/problems/"):
            return ok({"id": 3, "title": "Pods crash-looping", "status": "open"})
        if path == "/api/webhooks" and method == "POST":
            wid = str(next(self._ids))
            hook = {
                "id": int(wid),
                "active": True,
                **{k: v for k, v in body.items() if k != "secret"},
            }
            self.webhooks[wid] = hook
            return ok(hook, 201)
        if path == "/api/webhooks":
            return self._page(request, list(self.webhooks.values()))
        match = re.fullmatch(r"/api/webhooks/([^/]+)", path)
        if match:
            found_hook = self.webhooks.get(match.group(1))
            if found_hook is None:
                return fail(404, "NOT_FOUND", "No such webhook")
            if method == "PUT":
                found_hook.update({k: v for k, v in body.items() if k != "secret"})
            if method == "DELETE":
                del self.webhooks[match.group(1)]
                return httpx.Response(204)
            return ok(found_hook)
        return fail(404, "NOT_FOUND", path)
