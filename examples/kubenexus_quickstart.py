"""KubeNexus from Python.

    KUBENEXUS_BASE_URL=https://api.kubenexus.example.com KUBENEXUS_USERNAME=... \\
        KUBENEXUS_PASSWORD=... python examples/kubenexus_quickstart.py
    python examples/kubenexus_quickstart.py --demo      # offline, against a stand-in

Logs in, walks every active AWS cluster page by page, runs a health check,
refuses an invalid create before sending it, and verifies a webhook delivery.
"""

from __future__ import annotations

import argparse
import json
import sys

import httpx

from kubenexus_sdk import InputValidationError, KubeNexusClient, webhooks


def stand_in() -> httpx.Client:
    """An in-process imitation of the platform: login and a paged cluster list."""
    clusters = [
        {
            "id": i,
            "name": f"prod-{i:02d}",
            "cluster_type": "eks",
            "provider": "aws",
            "status": "active",
        }
        for i in range(1, 8)
    ]

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/auth/login":
            token = {
                "access_token": "eyJ.demo",
                "refresh_token": "r1",
                "token_type": "bearer",
                "expires_in": 3600,
            }
            return httpx.Response(200, json=token)
        if path == "/api/clusters":
            page, limit = int(request.url.params["page"]), int(request.url.params["limit"])
            data = clusters[(page - 1) * limit : page * limit]
            pages = -(-len(clusters) // limit)
            meta = {"page": page, "limit": limit, "total": len(clusters), "pages": pages,
                    "has_next": page < pages, "has_prev": page > 1}  # fmt: skip
            return httpx.Response(200, json={"status": "success", "data": data, "pagination": meta})
        if path.endswith("/health-check"):
            cid = int(path.split("/")[3])
            health = {
                "cluster_id": cid,
                "healthy": True,
                "node_count": 3,
                "ready_nodes": 3,
                "warnings": [],
            }
            return httpx.Response(200, json={"status": "success", "data": health})
        error = {"code": "NOT_FOUND", "message": path}
        return httpx.Response(404, json={"status": "error", "error": error})

    return httpx.Client(transport=httpx.MockTransport(answer))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--demo", action="store_true")
    args = parser.parse_args()
    if args.demo:
        client = KubeNexusClient(
            "https://api.kubenexus.example.com",
            username="ada",
            password="demo",
            http_client=stand_in(),
        )
    else:
        client = KubeNexusClient()

    with client:
        pages = client.clusters.list(status="active", provider="aws", sort="name", limit=3).pages()
        for number, page in enumerate(pages, 1):
            print(f"page {number}: {[c.name for c in page.items]}")
        health = client.clusters.health_check(1)
        print(f"cluster 1 healthy={health.healthy} nodes={health.ready_nodes}/{health.node_count}")
        try:
            client.clusters.create(name="new-eks", cluster_type="eks")
        except InputValidationError as exc:
            print(f"refused before sending: {exc}")

    secret = "whsec_demo"
    delivery = json.dumps(
        {"event": "alert.triggered", "data": {"id": 5, "severity": "critical"}}
    ).encode()
    signature = webhooks.sign(delivery, secret)
    if webhooks.verify_signature(delivery, signature, secret):
        event = webhooks.parse_event(delivery)
        print(f"webhook {event.event}: {type(event).__name__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
