"""Per-call cost of an sdk_core GET with a parsed model, against bare httpx.

Starts uvicorn on 127.0.0.1 in a subprocess serving one JSON route, then
times, in interleaved rounds on one keep-alive connection each:

- baseline: ``httpx.Client.get(url)`` + ``raise_for_status()`` + ``.json()``
- sdk_core: ``SyncAPIClient.request("GET", ..., cast_to=Model)``

and prints the median per-call time of each and their ratio. Target: <= 1.15x.

    python benchmarks/bench_sdk_core_get.py [--calls 300] [--rounds 15]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time

import httpx

from sdk_core import BaseModel, SyncAPIClient

SERVER = """
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

BODY = {"id": 7, "name": "prod-eu", "status": "active", "provider": "aws",
        "region": "eu-west-1", "node_count": 12, "version": "1.31.2",
        "tags": {"team": "sre", "env": "prod"}, "created_at": "2026-01-01T00:00:00Z"}

async def cluster(request):
    return JSONResponse(BODY)

app = Starlette(routes=[Route("/api/clusters/7", cluster)])
uvicorn.run(app, host="127.0.0.1", port=int(__import__("sys").argv[1]), log_level="warning",
            access_log=False)
"""


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("benchmark server did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    calls: int = args.calls

    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)])
    base = f"http://127.0.0.1:{port}/api"
    try:
        wait_ready(f"{base}/clusters/7")
        bare = httpx.Client()
        sdk = SyncAPIClient(base_url=base)

        def run_bare() -> float:
            start = time.perf_counter()
            for _ in range(calls):
                r = bare.get(f"{base}/clusters/7")
                r.raise_for_status()
                r.json()
            return (time.perf_counter() - start) / calls

        def run_sdk() -> float:
            start = time.perf_counter()
            for _ in range(calls):
                sdk.request("GET", "/clusters/7", cast_to=Cluster)
            return (time.perf_counter() - start) / calls

        run_bare(), run_sdk()  # warm up both connections
        bare_times, sdk_times = [], []
        for _ in range(args.rounds):
            bare_times.append(run_bare())
            sdk_times.append(run_sdk())
        b, s = statistics.median(bare_times), statistics.median(sdk_times)
        print(f"bare httpx GET + json : {b * 1e6:8.1f} us/call")
        print(f"sdk_core GET + model  : {s * 1e6:8.1f} us/call")
        print(f"ratio sdk_core/httpx  : {s / b:.3f}x (target <= 1.15x)")
        bare.close()
        sdk.close()
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
