"""sdk_core in one screen: a typed client over a flaky local service.

Starts a tiny HTTP service on 127.0.0.1 that answers its first request with
``503 Retry-After: 1`` and the next one with JSON; the client retries after the
server's wait, parses the body into a model, and shows the raw response.

    python examples/sdk_core_quickstart.py
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sdk_core import APIStatusError, BaseModel, SyncAPIClient, SyncAPIResource


class Cluster(BaseModel):
    id: int
    name: str
    status: str


class Clusters(SyncAPIResource):
    def get(self, cluster_id: int) -> Cluster:
        return self._client.request("GET", f"/clusters/{cluster_id}", cast_to=Cluster)


class DemoClient(SyncAPIClient):
    package_name = "demo_sdk"
    package_version = "1.0.0"

    @property
    def clusters(self) -> Clusters:
        return Clusters(self)


class FlakyHandler(BaseHTTPRequestHandler):
    calls = 0

    def do_GET(self) -> None:
        FlakyHandler.calls += 1
        if self.path == "/api/clusters/404":
            self._send(
                404,
                {
                    "status": "error",
                    "error": {"code": "CLUSTER_NOT_FOUND", "message": "no cluster 404"},
                },
            )
        elif FlakyHandler.calls == 1:
            self._send(
                503, {"error": {"code": "BUSY", "message": "try later"}}, {"Retry-After": "1"}
            )
        else:
            self._send(
                200,
                {"id": 7, "name": "prod-eu", "status": "active", "nodes": 12},
                {
                    "X-Request-ID": "req-42",
                    "X-RateLimit-Limit": "100",
                    "X-RateLimit-Remaining": "98",
                },
            )

    def _send(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FlakyHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}/api"
    try:
        with DemoClient(base_url=base_url, max_retries=2, deadline=30) as client:
            raw = client.with_raw_response.clusters.get(7)
            cluster = raw.parse()
            extra = cluster.model_extra
            print(f"cluster {cluster.id}: {cluster.name} ({cluster.status}), extra fields: {extra}")
            limit = raw.rate_limit
            print(
                f"status {raw.status_code}, request id {raw.request_id}, "
                f"retries {raw.retries_taken}, rate limit {limit.remaining}/{limit.limit}, "
                f"{raw.elapsed:.2f}s"
            )
            try:
                client.clusters.get(404)
            except APIStatusError as exc:
                name = type(exc).__name__
                print(f"typed error: {name} code={exc.code} message={exc.message!r}")
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
