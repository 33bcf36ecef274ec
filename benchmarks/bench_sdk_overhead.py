"""The CPU cost of one GET + model, as ratios against bare httpx, in one run.

Every contender sends the same ``GET /api/clusters/7`` through an in-memory
``httpx.MockTransport`` (no sockets, so only the client's own work is timed)
and turns the same JSON body into a model:

- ``httpx``: ``client.get`` + ``raise_for_status()`` + ``Model.model_validate_json``
- ``sdk_core``: ``SyncAPIClient.request("GET", ..., cast_to=Model)`` on the pool the
  client opens itself (the default; its transport swapped for the in-memory one)
- ``sdk_core, given http_client``: the same with ``http_client=httpx.Client(...)``
- ``sdk_core resource``: a resource method over ``request_raw`` (as the clients do)
- ``... + per-call timeout`` / ``header``: the same method with ``timeout=`` or
  ``extra_headers=`` (a header the request then carries beyond the plain call)
- ``... with_raw_response``: the same method through its typed raw wrapper
- ``openai-python``: ``OpenAI(...).get(path, cast_to=Model)``, its own base client
- ``gateway_sdk devices.status``: a real client of the suite, ``CustomerClient``'s
  ``devices.status("edge-001")`` (its ``{"device": ...}`` answer unwrapped into a
  ``DeviceStatus``), plain, with a per-call header, and through
  ``with_raw_response``; compared with ``httpx (gateway status)``, bare httpx
  doing the same GET and the same unwrapping

Rounds are interleaved; the median per-call CPU time of each (and the fastest
round, steadier on a busy machine) is compared with bare httpx's doing the same
call. Targets: sdk_core at most 1.15x; per-call options and raw responses within
noise of the plain resource call.

    python benchmarks/bench_sdk_overhead.py [--calls 2000] [--rounds 15]
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx
import openai

import sdk_core
from gateway_sdk import CustomerClient, DeviceStatus
from sdk_core import BaseModel, RequestOptions, SyncAPIClient, SyncAPIResource

BODY = json.dumps(
    {
        "id": 7,
        "name": "prod-eu",
        "status": "active",
        "provider": "aws",
        "region": "eu-west-1",
        "node_count": 12,
        "version": "1.31.2",
        "tags": {"team": "sre", "env": "prod"},
        "created_at": "2026-01-01T00:00:00Z",
    }
).encode()
STATUS_BODY = json.dumps(
    {
        "device": {
            "id": "edge-001",
            "status": "online",
            "lastHeartbeat": "2026-01-01T00:00:00Z",
            "metrics": {"cpu": 0.2, "memory": 0.4, "uptime": 3600},
            "diagnostics": {"disk": "ok"},
            "activeSession": None,
            "deadLetterCommands": 0,
        }
    }
).encode()
STATUS_PATH = "/api/v1/customer/devices/edge-001/status"
BASE = "http://bench.local/api"
GATEWAY = "http://bench.local"


def handler(request: httpx.Request) -> httpx.Response:
    body = STATUS_BODY if request.url.path == STATUS_PATH else BODY
    return httpx.Response(
        200,
        content=body,
        headers={"content-type": "application/json", "x-request-id": "req-1"},
    )


class Cluster(BaseModel):
    id: int
    name: str
    status: str
    provider: str
    region: str
    node_count: int
    version: str
    tags: dict[str, str]
    created_at: str


class OpenAICluster(openai.BaseModel):
    id: int
    name: str
    status: str
    provider: str
    region: str
    node_count: int
    version: str
    tags: dict[str, str]
    created_at: str


def transport() -> httpx.MockTransport:
    return httpx.MockTransport(handler)


class Clusters(SyncAPIResource):
    def get(self, cluster_id: int, **options: Any) -> Cluster:
        opts = RequestOptions(method="GET", url=f"/clusters/{cluster_id}")
        if options:  # per-call options: issue 17's sdk_core takes them as a third argument
            return self._client.request_raw(opts, Cluster, options).parsed  # type: ignore[call-arg,no-any-return,unused-ignore]
        return self._client.request_raw(opts, Cluster).parsed  # type: ignore[no-any-return]


def own_pool_client() -> SyncAPIClient:
    """A client on the pool it opens itself, reaching the in-memory transport."""
    client = SyncAPIClient(base_url=BASE)
    client._http._transport = transport()  # no socket, the same pool object
    return client


BASELINE = {"gateway_sdk": "httpx (gateway status)", "httpx (gateway": "httpx (gateway status)"}
"""Contenders (by name prefix) measured against another bare httpx call than ``httpx``."""


def gateway_contenders() -> dict[str, Callable[[], object]]:
    bare = httpx.Client(transport=transport())
    portal = CustomerClient(GATEWAY, "eyJ.bench.token")
    portal._http._transport = transport()  # the pool it opened, reaching the in-memory transport

    def run_bare() -> object:
        r = bare.get(GATEWAY + STATUS_PATH, headers={"Authorization": "Bearer eyJ.bench.token"})
        r.raise_for_status()
        return DeviceStatus.model_validate(r.json()["device"])

    return {
        "httpx (gateway status)": run_bare,
        "gateway_sdk devices.status": functools.partial(portal.devices.status, "edge-001"),
        "gateway_sdk devices.status + per-call header": functools.partial(
            portal.devices.status, "edge-001", extra_headers={"X-Trace": "1"}
        ),
        "gateway_sdk devices.status with_raw_response": functools.partial(
            portal.devices.with_raw_response.status, "edge-001"
        ),
    }


def contenders() -> dict[str, Callable[[], object]]:
    bare = httpx.Client(transport=transport())
    sdk = own_pool_client()
    given = SyncAPIClient(base_url=BASE, http_client=httpx.Client(transport=transport()))
    oa = openai.OpenAI(
        api_key="sk-bench",
        base_url=BASE,
        http_client=httpx.Client(transport=transport()),
    )
    clusters = Clusters(own_pool_client())

    def run_bare() -> object:
        r = bare.get(f"{BASE}/clusters/7")
        r.raise_for_status()
        return Cluster.model_validate_json(r.content)

    out: dict[str, Callable[[], object]] = {
        "httpx": run_bare,
        "sdk_core": functools.partial(sdk.request, "GET", "/clusters/7", cast_to=Cluster),
        "sdk_core, given http_client": functools.partial(
            given.request, "GET", "/clusters/7", cast_to=Cluster
        ),
        "sdk_core resource": functools.partial(clusters.get, 7),
        "openai-python": functools.partial(oa.get, "/clusters/7", cast_to=OpenAICluster),
    }
    if hasattr(sdk_core, "RequestOverrides"):  # per-call options (issue 17)
        out["sdk_core resource + per-call timeout"] = functools.partial(
            clusters.get, 7, timeout=5.0
        )
        out["sdk_core resource + per-call header"] = functools.partial(
            clusters.get, 7, extra_headers={"X-Trace": "1"}
        )
    if hasattr(sdk_core, "to_raw_response_wrapper"):
        raw_get = sdk_core.to_raw_response_wrapper(clusters.get)
        out["sdk_core resource with_raw_response"] = functools.partial(raw_get, 7)
    return out | gateway_contenders()


def baseline_of(name: str) -> str:
    return next((b for prefix, b in BASELINE.items() if name.startswith(prefix)), "httpx")


def per_call(fn: Callable[[], object], calls: int) -> float:
    # CPU time of this process: what the client costs, less what other processes
    # on a shared machine take from the wall clock.
    start = time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    runs = contenders()
    for fn in runs.values():  # warm up: imports, caches, adapters
        per_call(fn, 200)
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, fn in runs.items():
            times[name].append(per_call(fn, args.calls))
    medians = {name: statistics.median(t) for name, t in times.items()}
    fastest = {name: min(t) for name, t in times.items()}
    width = max(len(n) for n in medians)
    print(f"{'':<{width}}   median CPU/call        fastest round     (against)")
    for name, median in medians.items():
        against = baseline_of(name)
        base, base_min = medians[against], fastest[against]
        print(
            f"{name:<{width}} : {median * 1e6:7.1f} us  {median / base:5.2f}x httpx"
            f"   {fastest[name] / base_min:5.2f}x httpx   ({against})"
        )
    print("target: sdk_core <= 1.15x httpx")


if __name__ == "__main__":
    main()
