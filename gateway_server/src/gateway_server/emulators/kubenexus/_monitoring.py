"""KubeNexus's monitoring: cluster metrics and time series, alerts, and the
SRE agent's anomalies, recommendations and problems."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..._errors import InvalidInput
from ...edge import known_query, read_json
from ._answers import flag, instant, listing, number, ok
from ._auth import Caller
from ._bodies import Feedback, fields_of
from ._store import Store, Table, iso

__all__ = ["Monitoring"]

RESOLUTIONS = {"1m": 60, "5m": 300, "1h": 3600, "1d": 86400}
MAX_POINTS = 1000


class Monitoring:
    def __init__(
        self, store: Store, call: Callable[[Request, str], Caller], max_body_bytes: int
    ) -> None:
        self.store = store
        self.clock = store.clock
        self.call = call
        self.max_body_bytes = max_body_bytes

    def routes(self) -> list[BaseRoute]:
        s = self.store
        return [
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
        ]

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
        start, end = instant(q, "start_time"), instant(q, "end_time")
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
                wanted = flag(q.get("resolved", ""), "resolved")
                given["resolved"] = lambda r: bool(r.get("resolved")) == wanted
            if "min_confidence" in filters and q.get("min_confidence") is not None:
                low = number(q.get("min_confidence", ""), "min_confidence")
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
        body = await read_json(request, Feedback, self.max_body_bytes)
        recommendation.setdefault("feedback", []).append(
            {**fields_of(body), "by": caller.user["username"], "at": iso(self.clock())}
        )
        return ok(request, recommendation, message="Feedback recorded")
