"""The compliance incidents list against a bare Starlette JSON route on the same server.

One uvicorn process (a subprocess, 127.0.0.1) serves the whole server
(``create_app``, SQLite, as ``gateway-server serve`` runs it) and, beside
it, a bare ``/bench/bare`` JSON route. The server is seeded first with a
partner, an admin, three sites and 1,200 incidents. From this process, in
the same run, ``--workers`` concurrent keep-alive clients call:

- bare: the bare route (a small JSON answer);
- incidents: ``GET /api/incidents?site_id=..&severity=high&resolved=false&limit=50``
  as the admin (Bearer session): a session check, the partner scope, four
  filters, the total and a page of 50 incidents, each checked and rendered.

Rounds of bare, incidents, bare; each ratio is taken against the bare route
around it, and the median printed. Target: incidents >= 0.4x.

    python benchmarks/bench_compliance.py [--seconds 2] [--rounds 5] [--workers 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable

SERVER = """
import asyncio
import json
import sys
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from gateway_server import Settings, create_app

app = create_app(Settings(data_dir=sys.argv[2], jwt_secret="bench-secret-" + "z" * 32))

async def seed():
    async with app.router.lifespan_context(app):
        api = app.compliance
        partner = await api.users.partner("bench")
        await api.users.create_user("bench-admin", "bench-password", "admin", partner)
        sites = [(await api.sites.create(partner, f"Site {i}", "self_heal")).id for i in range(3)]
        checks = ("firewall", "defender", "bitlocker", "patches")
        for n in range(1200):
            site, check = sites[n % 3], checks[n % 4]
            await api.service.drift(site, f"HOST-{n:04d}", check, False,
                                    expected="on", actual="off", metadata={"n": str(n)})
        return sites[0]

site = asyncio.run(seed())
print(json.dumps({"site": site}), flush=True)

async def bare(request):
    return JSONResponse({"items": [], "total": 0, "limit": 50, "offset": 0})

bare_app = Starlette(routes=[Route("/bench/bare", bare)])

async def served(scope, receive, send):
    # Each request to one of two apps as uvicorn would serve it alone (a Mount in
    # front would add a router stack that production never has).
    if scope["type"] == "http" and scope["path"].startswith("/bench/"):
        await bare_app(scope, receive, send)
    else:
        await app(scope, receive, send)

uvicorn.run(served, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


class KeepAlive:
    """GET on one keep-alive HTTP/1.1 socket: a load generator far cheaper than
    the server it measures (httpx would be the bottleneck at these rates)."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.port = port
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        if self.streams is None:
            self.streams = await asyncio.open_connection("127.0.0.1", self.port)
        reader, writer = self.streams
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{self.extra}\r\n".encode())
        status = int((await reader.readline()).split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return status, await reader.readexactly(length)


async def rate(workers: int, seconds: float, one: Callable[[int], Awaitable[None]]) -> float:
    done = 0
    stop_at = time.perf_counter() + seconds

    async def loop(i: int) -> None:
        nonlocal done
        while time.perf_counter() < stop_at:
            await one(i)
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop(i) for i in range(workers)))
    return done / (time.perf_counter() - started)


async def run(port: int, site: str, seconds: float, rounds: int, workers: int) -> float:
    login = json.dumps({"username": "bench-admin", "password": "bench-password"}).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(login)}\r\n\r\n".encode()
        + login
    )
    await reader.readline()
    length = 0
    while (line := await reader.readline()) != b"\r\n":
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    token = json.loads(await reader.readexactly(length))["token"]
    writer.close()

    conns = [KeepAlive(port, {"Authorization": f"Bearer {token}"}) for _ in range(workers)]
    path = f"/api/incidents?site_id={site}&severity=high&resolved=false&limit=50"
    status, body = await conns[0].get(path)
    page = json.loads(body)
    assert status == 200, (status, body[:200])
    assert len(page["items"]) == 50, page["total"]
    print(f"incidents page: {len(page['items'])} of {page['total']}, {len(body)} bytes")

    async def bare(i: int) -> None:
        assert (await conns[i].get("/bench/bare"))[0] == 200

    async def incidents(i: int) -> None:
        assert (await conns[i].get(path))[0] == 200

    await rate(workers, 0.5, bare)
    await rate(workers, 0.5, incidents)
    ratios = []
    for n in range(rounds):
        before = await rate(workers, seconds, bare)
        listed = await rate(workers, seconds, incidents)
        after = await rate(workers, seconds, bare)
        base = (before + after) / 2
        ratios.append(listed / base)
        shown = f"bare {base:6.0f} req/s, incidents {listed:6.0f} req/s, {listed / base:.2f}x"
        print(f"  round {n + 1}: {shown}")
    ratio = statistics.median(ratios)
    print(
        f"incidents list (50 of a filtered total): {ratio:.2f}x the bare route "
        f"(target >= 0.4x; rounds {min(ratios):.2f} to {max(ratios):.2f}; {workers} clients)"
    )
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=10)
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    with tempfile.TemporaryDirectory() as data:
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(port), data], stdout=subprocess.PIPE, text=True
        )
        try:
            assert server.stdout is not None
            site = json.loads(server.stdout.readline())["site"]
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            asyncio.run(run(port, site, args.seconds, args.rounds, args.workers))
        finally:
            server.terminate()
            server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
