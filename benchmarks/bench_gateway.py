"""Gateway throughput against a bare Starlette JSON route on the same server.

One uvicorn process (a subprocess, 127.0.0.1) serves the gateway on SQLite
and, beside it, a bare ``/bench/bare`` JSON route. From this process, in the
same run:

- bare: 20 concurrent clients calling the bare route
- heartbeats: 20 concurrent devices posting heartbeats
- cycles: 20 concurrent device workers doing claim + complete on one queue
- floor (a reference, no target): the same claim + complete cycles on bare
  Starlette routes that run only the gateway's two queue statements and their
  commits (its own compiled ``TAKE_NEXT`` and ``FINISH``, on a second SQLite
  file): no authentication, validation, rate limits, request ids or logs.
  It shows how much of a cycle is the durable work itself, which any
  Starlette + SQLite server pays, and how much is the gateway's own.

Each is printed as requests (or cycles) per second and as a ratio to the bare
route measured around it, in rounds; the medians are the result. Targets:
heartbeat >= 0.5x, claim+complete cycles >= 0.25x.

With ``--breakdown`` it also prints where a request's time goes on the
server (slightly slower overall: every request is timed): per kind of request,
the microseconds spent in the app and, of those, in uvicorn's ``send`` (h11
writing the response, and the socket writes); and the server process's CPU
time per operation of each phase (Linux, read from /proc).

    python benchmarks/bench_gateway.py [--seconds 2] [--rounds 5] [--workers 20] [--breakdown]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable

import httpx

SERVER = """
import asyncio
import json
import os
import sys
import time
import uuid
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from gateway_server import Settings, create_app
from gateway_server import _schema, storage
from gateway_server.device_gateway import _sql
from gateway_server.security import hash_secret, new_secret

gateway = create_app(Settings(data_dir=sys.argv[2], jwt_secret="bench-secret-" + "z" * 32,
                              device_rate_per_minute=10**9, customer_rate_per_minute=10**9,
                              auth_attempts_per_minute=10**9))

async def bare(request):
    return JSONResponse({"success": True, "nextHeartbeat": 30000, "pendingCommands": 0})

# The floor: the gateway's claim and result statements, alone behind bare routes.
floor_file = os.path.join(sys.argv[2], "floor.db")
asyncio.run(_schema.upgrade(storage.connect(f"sqlite+aiosqlite:///{floor_file}")))
floor_engine = storage.connect_sync(f"sqlite:///{floor_file}")
floor_conn = floor_engine.connect()
floor = floor_conn.connection.driver_connection
now = time.time()
floor.executemany(
    "INSERT INTO commands (id, device_id, session_id, customer_id, type, parameters, priority,"
    " state, claim_count, created_at, updated_at) VALUES (?, 'floor', 's', 'c', 'job', 'null',"
    " 0, 'pending', 0, ?, ?)",
    [(str(uuid.uuid4()), now, now) for _ in range(int(sys.argv[3]))],
)
floor.commit()
TAKE = storage.Plan(_sql.TAKE_NEXT, floor_engine.dialect)
FINISH = storage.Plan(_sql.FINISH, floor_engine.dialect)

async def floor_claim(request):
    body = json.loads(await request.body())
    now, token = time.time(), new_secret(24)
    until = now + body["visibilityTimeout"] / 1000
    values = {"p_token_hash": hash_secret(token), "p_until": until, "p_now": now,
              "p_device_id": "floor", "p_max_claims": 5}
    rows = floor.execute(TAKE.sql, TAKE.values(values)).fetchall()
    floor.commit()
    return JSONResponse({"commands": [{"id": rows[0][0], "claimToken": token}]})

async def floor_result(request):
    body = json.loads(await request.body())
    values = {"p_command_id": request.path_params["id"], "p_device_id": "floor",
              "p_token_hash": hash_secret(body["claimToken"]), "p_now": time.time(),
              "p_result_status": body["status"], "p_output": body.get("output"),
              "p_error": body.get("error"), "p_executed_at": body["executedAt"],
              "p_duration": body["duration"]}
    rows = floor.execute(FINISH.sql, FINISH.values(values)).fetchall()
    floor.commit()
    if not rows:
        return JSONResponse({"error": "not completed"}, status_code=403)
    return JSONResponse({"success": True, "nextCommand": {"id": rows[0][0]}})

bare_app = Starlette(routes=[
    Route("/bench/bare", bare, methods=["POST"]),
    Route("/bench/floor/claim", floor_claim, methods=["POST"]),
    Route("/bench/floor/{id}/result", floor_result, methods=["POST"]),
])

async def app(scope, receive, send):
    # Each request goes to one of two apps as uvicorn would serve it alone: the
    # bare app, or the gateway exactly as `gateway-server serve` runs it (a
    # Starlette Mount in front would add a second router stack to every
    # gateway request that production never has).
    if scope["type"] == "http" and scope["path"].startswith("/bench/"):
        await bare_app(scope, receive, send)
    else:
        await gateway(scope, receive, send)

# --breakdown: per kind of request, [count, seconds in the app, seconds in send].
spent = {}

def breakdown():
    answer = {kind: [n, app_s / n * 1e6, send_s / n * 1e6]
              for kind, (n, app_s, send_s) in spent.items()}
    spent.clear()
    return JSONResponse(answer)

async def timed_app(scope, receive, send):
    if scope["type"] != "http":
        await app(scope, receive, send)
        return
    path = scope["path"]
    if path == "/bench/breakdown":
        await breakdown()(scope, receive, send)
        return
    kind = ("floor " if path.startswith("/bench/floor") else "") + path.rsplit("/", 1)[-1]
    in_send = 0.0

    async def timed_send(message):
        nonlocal in_send
        started = time.perf_counter()
        await send(message)
        in_send += time.perf_counter() - started

    started = time.perf_counter()
    await app(scope, receive, timed_send)
    totals = spent.setdefault(kind, [0, 0.0, 0.0])
    totals[0] += 1
    totals[1] += time.perf_counter() - started
    totals[2] += in_send

served = timed_app if sys.argv[4] == "1" else app
uvicorn.run(served, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""

HEARTBEAT = {
    "timestamp": "2024-06-01T10:00:00Z",
    "status": "online",
    "metrics": {"cpu": 0.1, "memory": 0.2, "uptime": 3},
}
RESULT = {
    "status": "success",
    "executedAt": "2024-06-01T10:00:00Z",
    "duration": 0.01,
    "output": "ok",
}


class RawConnection:
    """A minimal keep-alive HTTP/1.1 client on one socket, so that the load
    generator costs far less than the server it measures (httpx would be the
    bottleneck at these rates)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return status, await self.reader.readexactly(length)


def cpu_seconds(pid: int) -> float | None:
    """A process's user + system CPU time so far (Linux), else None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Breakdown:
    """``--breakdown``: the server's own account of each phase of a round."""

    def __init__(self, conn: RawConnection, pid: int) -> None:
        self.conn, self.pid = conn, pid
        self.in_app: dict[str, list[tuple[float, float]]] = defaultdict(list)
        self.cpu: dict[str, list[float]] = defaultdict(list)

    def cpu_seconds(self) -> float | None:
        return cpu_seconds(self.pid)

    async def phase(self, name: str, run: Awaitable[float]) -> float:
        await self.conn.post("/bench/breakdown", b"", {})  # what came before is not this phase's
        cpu, started = self.cpu_seconds(), time.perf_counter()
        rate = await run
        wall, cpu_after = time.perf_counter() - started, self.cpu_seconds()
        if cpu is not None and cpu_after is not None:
            self.cpu[name].append((cpu_after - cpu) / (rate * wall) * 1e6)
        _, body = await self.conn.post("/bench/breakdown", b"", {})
        for kind, (_, app_us, send_us) in json.loads(body).items():
            self.in_app[kind].append((app_us, send_us))
        return rate

    def report(self) -> None:
        print("where a request's time goes on the server (medians over rounds, microseconds):")
        print("  request         in the app   of which in send (h11 + socket writes)")
        for kind, times in self.in_app.items():
            app_us = statistics.median(t[0] for t in times)
            send_us = statistics.median(t[1] for t in times)
            print(f"  {kind:14s} {app_us:11.1f}   {send_us:8.1f}")
        if self.cpu:
            per_op = ", ".join(f"{k} {statistics.median(v):.0f}" for k, v in self.cpu.items())
            print(f"  server CPU per operation: {per_op}")


def queue_size(rounds: int, seconds: float) -> int:
    """Commands queued up front, so that cycles never find the queue empty
    (an empty claim would turn a cycle into an enqueue)."""
    return int(rounds * seconds * 3000) + 2000


def wait_until_up(url: str, timeout: float = 60) -> None:
    """Until the server at ``url`` answers ``/healthz``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(f"{url}/healthz", timeout=1)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def timed(workers: int, seconds: float, one: object) -> float:
    """Operations per second of ``workers`` coroutines repeating ``one`` for ``seconds``."""
    done = 0
    stop_at = time.perf_counter() + seconds

    async def loop(i: int) -> None:
        nonlocal done
        while time.perf_counter() < stop_at:
            await one(i)  # type: ignore[operator]
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop(i) for i in range(workers)))
    return done / (time.perf_counter() - started)


async def run(
    url: str, seconds: float, rounds: int, workers: int, server_pid: int | None = None
) -> None:
    """The rounds; with ``server_pid`` (``--breakdown``), the server's account too."""
    from gateway_server import CustomerVerifier  # noqa: PLC0415

    token = CustomerVerifier(secret="bench-secret-" + "z" * 32, audience="gateway").mint("bench")
    customer = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=workers * 2, max_keepalive_connections=workers * 2)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as http:
        devices = []
        for i in range(workers):
            code = (
                await http.post(
                    "/api/v1/customer/devices/provision",
                    json={"deviceId": f"bench-{i:02d}"},
                    headers=customer,
                )
            ).json()
            secret = (
                await http.post(
                    "/api/v1/device/register",
                    json={
                        "deviceId": f"bench-{i:02d}",
                        "activationCode": code["device"]["activationCode"],
                    },
                )
            ).json()["deviceSecret"]
            tok = (
                await http.post(
                    "/api/v1/device/auth",
                    json={"deviceId": f"bench-{i:02d}", "deviceSecret": secret},
                )
            ).json()["token"]
            devices.append({"X-Device-Token": tok})
        session = (
            await http.post(
                "/api/v1/customer/sessions",
                json={"deviceId": "bench-00", "type": "diagnostic"},
                headers=customer,
            )
        ).json()["session"]["id"]
        queue_owner = devices[0]

        port = int(url.rsplit(":", 1)[1])
        conns = [RawConnection("127.0.0.1", port) for _ in range(workers)]
        beat = json.dumps(HEARTBEAT).encode()
        claim_body = json.dumps({"limit": 1, "visibilityTimeout": 60000}).encode()
        enqueue_body = json.dumps({"type": "job"}).encode()

        async def bare(i: int) -> None:
            status, _ = await conns[i].post("/bench/bare", beat, {})
            assert status == 200, status

        async def heartbeat(i: int) -> None:
            status, _ = await conns[i].post("/api/v1/device/heartbeat", beat, devices[i])
            assert status == 200, status

        async def claim_and_complete(i: int, prefix: str, headers: dict[str, str]) -> None:
            status, body = await conns[i].post(f"{prefix}/claim", claim_body, headers)
            assert status == 200, status
            commands = json.loads(body)["commands"]
            assert commands, "the queue ran dry: raise the prefill"
            c = commands[0]
            result = json.dumps({**RESULT, "claimToken": c["claimToken"]}).encode()
            status, _ = await conns[i].post(f"{prefix}/{c['id']}/result", result, headers)
            assert status == 200, status

        async def cycle(i: int) -> None:
            await claim_and_complete(i, "/api/v1/device/commands", queue_owner)

        async def floor(i: int) -> None:
            await claim_and_complete(i, "/bench/floor", {})

        prefill = queue_size(rounds, seconds)
        enqueue_path = f"/api/v1/customer/sessions/{session}/commands"
        for _ in range(prefill // workers):
            await asyncio.gather(
                *(conns[i].post(enqueue_path, enqueue_body, customer) for i in range(workers))
            )
        await timed(workers, 0.5, bare)
        await timed(workers, 0.5, heartbeat)
        await timed(workers, 0.5, cycle)
        await timed(workers, 0.5, floor)
        # Rounds of bare, heartbeat, cycles, floor, bare: each ratio is taken against
        # the bare route measured around it, so a machine that slows down or speeds
        # up over the run (a shared VM does) moves both sides; the median is printed.
        breakdown = None if server_pid is None else Breakdown(conns[0], server_pid)

        async def measure(name: str, one: object) -> float:
            if breakdown is None:
                return await timed(workers, seconds, one)
            return await breakdown.phase(name, timed(workers, seconds, one))

        rows = []
        for n in range(rounds):
            before = await measure("bare", bare)
            beats = await measure("heartbeat", heartbeat)
            cycles = await measure("cycle", cycle)
            floors = await measure("floor", floor)
            after = await measure("bare", bare)
            base = (before + after) / 2
            ratios = (beats / base, cycles / base, floors / base, cycles / floors)
            rows.append((base, beats, cycles, floors, *ratios))
            print(
                f"  round {n + 1}: bare {base:6.0f} req/s, heartbeat {beats / base:.2f}x, "
                f"cycles {cycles / base:.2f}x, floor {floors / base:.2f}x, "
                f"cycles/floor {cycles / floors:.2f}"
            )
        columns = list(zip(*rows, strict=True))
        base, beats, cycles, floors, hb, cy, fl, share = map(statistics.median, columns)

        def spread(column: int) -> str:
            return f"rounds {min(columns[column]):.2f} to {max(columns[column]):.2f}"

        print(f"bare Starlette JSON route : {base:8.0f} req/s  ({workers} concurrent clients)")
        print(
            f"heartbeat                 : {beats:8.0f} req/s  {hb:.2f}x (target >= 0.5x; "
            f"{spread(4)})"
        )
        print(
            f"claim + complete cycles   : {cycles:8.0f} cyc/s  {cy:.2f}x (target >= 0.25x; "
            f"{spread(5)})"
        )
        print(
            f"  floor, same statements  : {floors:8.0f} cyc/s  {fl:.2f}x (reference; {spread(6)})"
        )
        print(f"  cycles / floor          : {share:8.2f}  (the gateway's cycles per floor cycle)")
        print(f"(medians of {rounds} rounds of {seconds:g} s per phase)")
        if breakdown is not None:
            breakdown.report()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0, help="per phase and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=20)
    parser.add_argument(
        "--breakdown", action="store_true", help="also print where the server's time goes"
    )
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as data:
        queued = str(queue_size(args.rounds, args.seconds))
        timing = "1" if args.breakdown else "0"
        proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port), data, queued, timing])
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(url)
            pid = proc.pid if args.breakdown else None
            asyncio.run(run(url, args.seconds, args.rounds, args.workers, pid))
        finally:
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    main()
