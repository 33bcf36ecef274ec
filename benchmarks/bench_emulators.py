"""Emulator overhead per call against a bare Starlette route on the same server.

One uvicorn process (a subprocess, 127.0.0.1) serves the reference server
with every emulator on (``--emulate all``, limits raised through a seed file
so the load is never refused) and, beside it, a bare ``/bench/bare`` JSON
route. From this process, in the same run and in rounds, 20 keep-alive
connections call:

- bare: the bare route
- exasperation: ``POST /v1/search`` (auth, limits, keyword scoring over the corpus)
- nexthink: ``POST /api/v2/nql/execute`` (token check, a saved query over the seeded table)
- kubenexus: ``POST /api/clusters/1/health-check`` (API key, permission, the health)

Each is printed as requests a second, as a ratio to the bare route measured
around it, and as the server time each call adds to the bare route's
(``1/rate - 1/bare``: one server process, one core, so a call's share of
it). The medians over the rounds are the result.

    python benchmarks/bench_emulators.py [--seconds 2] [--rounds 3] [--workers 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
from bench_gateway import RawConnection, free_port, timed, wait_until_up

from gateway_server.emulators import load_seed

SERVER = """
import sys
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from gateway_server import Settings, create_app

server = create_app(Settings(data_dir=sys.argv[2], jwt_secret="bench-secret-" + "z" * 32,
                             emulate="all", emulator_data=sys.argv[3],
                             nexthink_rate_per_minute=10**9))

async def bare(request):
    return JSONResponse({"status": "success", "data": {"healthy": True}})

bare_app = Starlette(routes=[Route("/bench/bare", bare, methods=["POST"])])

async def app(scope, receive, send):
    if scope["type"] == "http" and scope["path"].startswith("/bench/"):
        await bare_app(scope, receive, send)
    else:
        await server(scope, receive, send)

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
            access_log=False, lifespan="on")
"""


def seed_without_limits(path: Path) -> None:
    """The packaged seed, with every vendor limit out of the way."""
    seed = load_seed(None)
    seed["exasperation"] |= {"requests_per_minute": 10**9, "max_in_flight": 10**6}
    seed["kubenexus"]["requests_per_minute"] = 10**9
    path.write_text(json.dumps(seed))


async def run(port: int, seconds: float, rounds: int, workers: int) -> None:
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url) as http:
        token = (
            await http.post(
                "/emulators/nexthink/oauth2/default/v1/token",
                data={"grant_type": "client_credentials"},
                auth=("nx-demo-client", "nx-demo-secret"),
            )
        ).json()["access_token"]
    calls = {
        "bare": ("/bench/bare", b"{}", {}),
        "exasperation": (
            "/emulators/exasperation/v1/search",
            b'{"query": "How does password reset detection work?"}',
            {"Authorization": "Bearer exa-demo-key"},
        ),
        "nexthink": (
            "/emulators/nexthink/api/v2/nql/execute",
            b'{"queryId": "#crashes", "parameters": {"days": 7}}',
            {"Authorization": f"Bearer {token}"},
        ),
        "kubenexus": (
            "/emulators/kubenexus/api/clusters/1/health-check",
            b"",
            {"X-API-Key": "kn-admin-api-key"},
        ),
    }
    conns = [RawConnection("127.0.0.1", port) for _ in range(workers)]

    def caller(name: str) -> object:
        path, body, headers = calls[name]

        async def one(i: int) -> None:
            status, answer = await conns[i].post(path, body, headers)
            assert status == 200, (name, status, answer[:200])

        return one

    for name in calls:  # warm up: every route once, connections open
        await timed(workers, 0.2, caller(name))
    results: dict[str, list[float]] = {name: [] for name in calls}
    ratios: dict[str, list[float]] = {name: [] for name in calls if name != "bare"}
    for number in range(1, rounds + 1):
        before = await timed(workers, seconds, caller("bare"))
        measured = {name: await timed(workers, seconds, caller(name)) for name in ratios}
        after = await timed(workers, seconds, caller("bare"))
        bare = (before + after) / 2
        results["bare"].append(bare)
        line = [f"round {number}: bare {bare:,.0f}/s"]
        for name, rate in measured.items():
            results[name].append(rate)
            ratios[name].append(rate / bare)
            line.append(f"{name} {rate:,.0f}/s ({rate / bare:.2f}x)")
        print("; ".join(line), flush=True)
    bare = statistics.median(results["bare"])
    print(f"medians over {rounds} rounds, {workers} connections; bare route {bare:,.0f} req/s")
    for name, values in ratios.items():
        rate = statistics.median(results[name])
        extra = (1 / rate - 1 / bare) * 1e6
        print(
            f"  {name:13s} {rate:8,.0f} req/s  {statistics.median(values):.2f}x of bare  "
            f"+{extra:.0f} us of server time per call"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0, help="per phase and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=20)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="emulator-bench-") as data:
        seed = Path(data) / "seed.json"
        seed_without_limits(seed)
        proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port), data, str(seed)])
        try:
            wait_until_up(f"http://127.0.0.1:{port}")
            asyncio.run(run(port, args.seconds, args.rounds, args.workers))
        finally:
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    main()
