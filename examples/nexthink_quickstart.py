"""Nexthink Infinity from Python.

    NEXTHINK_INSTANCE=acme NEXTHINK_REGION=eu NEXTHINK_CLIENT_ID=... NEXTHINK_CLIENT_SECRET=... \\
        python examples/nexthink_quickstart.py
    NEXTHINK_BASE_URL=... NEXTHINK_TOKEN_URL=... NEXTHINK_CLIENT_ID=... \\
        NEXTHINK_CLIENT_SECRET=... python examples/nexthink_quickstart.py  # e.g. the emulator
    python examples/nexthink_quickstart.py --demo      # offline, against a stand-in

Runs a query, exports a larger one and streams the file to disk, enriches two
devices (one of which fails) and prints the per-item outcome.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
from pathlib import Path

import httpx

from nexthink_sdk import Enrichment, InputValidationError, NexthinkClient


def stand_in() -> httpx.Client:
    """An in-process imitation of Nexthink and its object storage."""
    polls = itertools.count(1)

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/oauth2/default/v1/token"):
            return httpx.Response(
                200, json={"access_token": "demo", "token_type": "Bearer", "expires_in": 900}
            )
        if request.url.host.startswith("storage"):
            assert "authorization" not in request.headers  # no Nexthink token leaves for storage
            return httpx.Response(200, content=b"device.name,crashes\nLAPTOP-1,3\nLAPTOP-2,0\n")
        if path == "/api/v2/nql/execute":
            rows = [
                {"device.name": "LAPTOP-1", "crashes": 3},
                {"device.name": "LAPTOP-2", "crashes": 0},
            ]
            return httpx.Response(200, json={"queryId": "#crashes", "rows": 2, "data": rows})
        if path == "/api/v1/nql/export":
            return httpx.Response(200, json={"exportId": "exp-1"})
        if path == "/api/v1/nql/status/exp-1":
            if next(polls) < 3:
                return httpx.Response(200, json={"status": "IN_PROGRESS"})
            url = "https://storage.example.test/exp-1.csv?X-Amz-Signature=s"
            return httpx.Response(200, json={"status": "COMPLETED", "resultsFileUrl": url})
        if path == "/api/v1/enrichment/data/fields":
            failed = [
                {
                    "identification": e["identification"],
                    "errors": [{"message": "Object not found", "code": "NOT_FOUND"}],
                }
                for e in json.loads(request.content)["enrichments"]
                if e["identification"][0]["value"].startswith("GHOST")
            ]
            if failed:
                return httpx.Response(207, json={"status": "partial_success", "errors": failed})
            return httpx.Response(200, json={"status": "success"})
        return httpx.Response(404, json={"code": "NOT_FOUND", "message": path})

    return httpx.Client(transport=httpx.MockTransport(answer))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--demo", action="store_true")
    args = parser.parse_args()
    if args.demo:
        http = stand_in()
        client = NexthinkClient(
            "acme",
            "eu",
            client_id="demo",
            client_secret="demo",
            http_client=http,
            download_client=http,
            sleep=lambda s: None,
        )
    else:  # NEXTHINK_* from the environment; a base and token URL point it elsewhere
        client = NexthinkClient(
            base_url=os.environ.get("NEXTHINK_BASE_URL"),
            token_url=os.environ.get("NEXTHINK_TOKEN_URL"),
        )

    with client:
        result = client.nql.execute_v2("#crashes", {"days": 7})
        for row in result.data:
            print(f"{row['device.name']}: {row['crashes']} crashes")

        job = client.nql.start_export("#all_devices", format="csv")
        done = client.nql.wait_for_export(
            job, on_progress=lambda s, t: print(f"  export {s.status}")
        )
        target = Path(tempfile.mkdtemp()) / "devices.csv"
        size = client.nql.download_export(done, target)
        print(f"export streamed to disk: {size} bytes")

        outcome = client.enrichment.set_fields(
            [
                Enrichment.of(
                    ("device/device/name", "LAPTOP-1"), {"device/device/#asset_tag": "A-1"}
                ),
                Enrichment.of(
                    ("device/device/name", "GHOST-9"), {"device/device/#asset_tag": "A-9"}
                ),
            ],
            domain="ServiceNow",
        )
        print(
            f"enrichment: HTTP {outcome.status_code}, "
            f"{len(outcome.succeeded)} applied, {len(outcome.failed)} failed"
        )
        for failure in outcome.failed:
            print(f"  {failure.item.key[1]}: {failure.message}")

        try:
            client.workflows.execute("#password_reset", devices=["LAPTOP-1"])
        except InputValidationError as exc:
            print(f"refused before sending: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
