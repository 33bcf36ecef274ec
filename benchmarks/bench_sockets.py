"""The device gateway's sockets at scale (issue 23): memory, fan-out, heartbeats.

The server is ``gateway-server serve`` itself, run in a subprocess on
127.0.0.1 with its defaults (plus rate limits raised for the load, and
whatever ``--server-args`` adds); the clients are this process (asyncio and
the ``websockets`` client, offering per-message deflate as browsers do). Both
raise their open-files limit as far as the hard limit allows. Three parts:

- memory: for each N of ``--sizes`` and each kind (device, customer), a fresh
  server; N idle sockets opened (100 at a time); the server's RSS (from
  /proc) before and after, per socket, and the time to open them all.
  Target: <= 25 KB per idle socket, 10,000 sockets in one process.
- heartbeats: on the largest device run, after the memory figure (requests
  would blur it), heartbeats a second (20 devices posting over keep-alive
  connections) on that server, with the N idle sockets open, and on a twin
  server on a copy of the data with none; 32 pairs of one-second rounds taken
  in turn, so that a machine whose speed swings from second to second (a
  shared host: the same server's rate moves by half between rounds here)
  weighs on both alike; the median of the pairs' ratios. Target: >= 0.9. The
  server's CPU time per heartbeat too, and its ratio. Then the N sockets must
  all still be open (a server that dropped them would flatter the figures).
- fan-out: ``--subscribers`` customer sockets subscribe to one device, beside
  100 idle customer sockets, then beside enough more for the largest N in all;
  the device completes ``--results`` commands (REST result), and each
  subscriber's delay from the request to its ``command_update`` (completed)
  is collected: p50 and p99. Target: p99 < 1 s, the same order either way.

    python benchmarks/bench_sockets.py [--sizes 1000,5000,10000] [--kinds device,customer]
        [--subscribers 1000] [--results 10]
        [--server-args "--ws-implementation websockets --ws-per-message-deflate"]

About 6 minutes with the defaults on 2 cores. The figures go in
docs/gateway.md ("Capacity").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
from bench_gateway import HEARTBEAT, RawConnection, cpu_seconds, free_port, timed
from websockets.asyncio.client import ClientConnection, connect
from websockets.protocol import State

SECRET = "bench-secret-" + "z" * 32
OWNER = "owner"  # the customer of the device the subscribers watch
WATCHED = "watched-0"
LOAD = {  # rate limits out of the way: the load comes from one address
    "--device-rate-per-minute": "1000000000",
    "--customer-rate-per-minute": "1000000000",
    "--auth-attempts-per-minute": "1000000000",
    "--max-sockets-per-customer": "100000",  # the fan-out's 1,000 subscribers are one customer's
}
BEATERS = 20
RESULT = {"status": "success", "executedAt": "2024-06-01T10:00:00Z", "duration": 0.01}


def raise_open_files() -> int:
    """The open-files limit raised to the hard limit; the new limit."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def serve(argv: list[str]) -> None:
    """The child: ``gateway-server serve`` with the open-files limit raised."""
    from gateway_server import main  # noqa: PLC0415

    raise_open_files()
    sys.exit(main(["serve", *argv]))


def memory_of(pid: int) -> dict[str, int]:
    """A process's resident memory from /proc, in bytes: VmRSS and its parts
    (RssAnon: the heap; RssFile and RssShmem: mapped files, SQLite's WAL index)."""
    sizes = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                sizes[name] = int(value.split()[0]) * 1024
    return sizes


async def seed(data_dir: Path, devices: int) -> dict[str, str]:
    """``devices`` registered devices of customers ``c-<i>`` (``dev-<i>``), the
    heartbeat devices, and the watched one of :data:`OWNER`; their secrets."""
    from gateway_server import Services, Settings  # noqa: PLC0415
    from gateway_server._schema import upgrade  # noqa: PLC0415
    from gateway_server.device_gateway import DeviceGateway  # noqa: PLC0415

    services = Services.create(Settings(data_dir=data_dir, jwt_secret=SECRET))
    await upgrade(services.database.engine)
    gateway = DeviceGateway(services)
    owners = [(f"c-{i}", f"dev-{i}") for i in range(devices)]
    owners += [(OWNER, f"beat-{i}") for i in range(BEATERS)] + [(OWNER, WATCHED)]
    secrets = {}
    try:
        for customer, device_id in owners:
            code, _ = await gateway.devices.provision(customer, device_id, None, None)
            _, secret, _ = await gateway.devices.register(device_id, code, None)
            secrets[device_id] = secret
    finally:
        await services.database.close()
    return secrets


class Server:
    """``gateway-server serve`` in a subprocess on a free port."""

    def __init__(self, data_dir: Path, extra: list[str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        flags = ["--data-dir", str(data_dir), "--port", str(self.port), "--jwt-secret", SECRET]
        flags += ["--log-level", "warning", *(x for kv in LOAD.items() for x in kv)]
        flags += ["--no-grpc-enabled", *extra]  # HTTP alone: two run at once in the heartbeats
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "serve", *flags], stdout=self.log, stderr=self.log
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.log.seek(0)
                raise RuntimeError("the server did not start:\n" + self.log.read().decode())
            time.sleep(0.1)

    def memory(self) -> dict[str, int]:
        return memory_of(self.proc.pid)

    def stop(self) -> None:
        self.proc.kill()  # the measurements are taken; no need to close 10,000 sockets politely
        self.proc.wait(30)
        self.log.close()


def device_url(server: Server, device_id: str, secret: str) -> str:
    return f"ws://127.0.0.1:{server.port}/ws/device?deviceId={device_id}&deviceSecret={secret}"


def customer_token(customer: str) -> str:
    from gateway_server import CustomerVerifier  # noqa: PLC0415

    return CustomerVerifier(secret=SECRET, audience="gateway").mint(customer, ttl=24 * 3600)


def customer_url(server: Server, customer: str) -> str:
    return f"ws://127.0.0.1:{server.port}/ws/customer?token={customer_token(customer)}"


async def open_all(urls: Iterable[str], at_once: int = 100) -> tuple[list[ClientConnection], float]:
    """One connection per URL, ``at_once`` handshakes in flight; and the seconds it took."""
    gate = asyncio.Semaphore(at_once)

    async def one(url: str) -> ClientConnection:
        async with gate:
            # No client pings: the server's keepalive is the one measured.
            return await connect(url, open_timeout=120, ping_interval=None, close_timeout=1)

    started = time.perf_counter()
    conns = await asyncio.gather(*(one(url) for url in urls))
    return list(conns), time.perf_counter() - started


async def close_all(conns: list[ClientConnection]) -> None:
    for conn in conns:
        conn.transport.abort()  # the server is gone already, or about to be


class Heartbeats:
    """Heartbeats a second on one server (20 devices, each over a keep-alive
    connection of its own, opened for each round: uvicorn closes idle ones
    after 5 s), and the server's CPU time for each, which other processes on
    a shared machine disturb far less."""

    def __init__(self, server: Server, headers: list[dict[str, str]]) -> None:
        self.server = server
        self.headers = headers
        self.beat = json.dumps(HEARTBEAT).encode()

    @classmethod
    async def on(cls, server: Server, secrets: dict[str, str]) -> Heartbeats:
        headers = []
        async with httpx.AsyncClient(base_url=server.url) as http:
            for i in range(BEATERS):
                device_id = f"beat-{i}"
                body = {"deviceId": device_id, "deviceSecret": secrets[device_id]}
                answer = await http.post("/api/v1/device/auth", json=body)
                headers.append({"X-Device-Token": answer.json()["token"]})
        return cls(server, headers)

    async def round(self, seconds: float = 2.0) -> tuple[float, float]:
        """One round (after a quarter of a second of warm-up): heartbeats a second, and
        the server's CPU microseconds for each."""
        conns = [RawConnection("127.0.0.1", self.server.port) for _ in range(BEATERS)]

        async def heartbeat(i: int) -> None:
            status, _ = await conns[i].post("/api/v1/device/heartbeat", self.beat, self.headers[i])
            assert status == 200, status

        try:
            await timed(BEATERS, 0.25, heartbeat)
            pid = self.server.proc.pid
            cpu_before, started = cpu_seconds(pid), time.perf_counter()
            rate = await timed(BEATERS, seconds, heartbeat)
            wall, cpu_after = time.perf_counter() - started, cpu_seconds(pid)
            cpu = float("nan")
            if cpu_before is not None and cpu_after is not None:
                cpu = (cpu_after - cpu_before) / (rate * wall) * 1e6
            return rate, cpu
        finally:
            for conn in conns:
                if conn.writer is not None:
                    conn.writer.close()


async def compare_heartbeats(
    loaded: Heartbeats, bare: Heartbeats, n: int, pairs: int = 32, seconds: float = 1.0
) -> None:
    """Rounds on the server with ``n`` idle sockets and on its twin with none,
    in pairs taken in turn (loaded first, then bare first: ABBA), so that a
    machine whose speed drifts from second to second (a shared host) weighs
    on both alike. Each pair gives a ratio; their median is the figure."""
    taken = []
    for i in range(pairs):
        if i % 2 == 0:
            w = await loaded.round(seconds)
            b = await bare.round(seconds)
        else:
            b = await bare.round(seconds)
            w = await loaded.round(seconds)
        taken.append((w, b))
    rates = sorted(w[0] / b[0] for w, b in taken)
    cpus = sorted(b[1] / w[1] for w, b in taken)
    quartiles = statistics.quantiles(rates, n=4)
    print(
        f"  heartbeats: {statistics.median(b[0] for _, b in taken):.0f}/s with no socket, "
        f"{statistics.median(w[0] for w, _ in taken):.0f}/s with {n} idle device sockets: "
        f"ratio {statistics.median(rates):.2f} (target >= 0.9; median of {pairs} pairs, "
        f"quartiles {quartiles[0]:.2f} to {quartiles[2]:.2f}); server CPU per heartbeat "
        f"{statistics.median(b[1] for _, b in taken):.0f} -> "
        f"{statistics.median(w[1] for w, _ in taken):.0f} us: ratio {statistics.median(cpus):.2f}",
        flush=True,
    )


async def memory(
    data_dir: Path, secrets: dict[str, str], n: int, kind: str, extra: list[str], twin: Path | None
) -> None:
    """Memory per idle socket and the time to open them; with ``twin`` (a
    copy of the seeded data), heartbeats with the sockets open against a
    second server on the copy with none (:func:`compare_heartbeats`)."""
    server = Server(data_dir, extra)
    server.wait_ready()
    bare: Server | None = None
    conns: list[ClientConnection] = []
    try:
        if kind == "device":
            urls = [device_url(server, f"dev-{i}", secrets[f"dev-{i}"]) for i in range(n)]
        else:
            urls = [customer_url(server, f"c-{i}") for i in range(n)]
        warm, _ = await open_all(urls[:20])  # imports and first-use caches are not per socket
        for conn in warm:
            await conn.close()
        await asyncio.sleep(1)
        before = server.memory()
        conns, seconds = await open_all(urls)
        await asyncio.sleep(3)  # let what the handshakes left settle
        after = server.memory()
        per = (after["VmRSS"] - before["VmRSS"]) / n
        anon = (after["RssAnon"] - before["RssAnon"]) / n
        print(
            f"  {n:6d} idle {kind:8s} sockets: {per / 1024:6.1f} KB each "
            f"(server RSS {before['VmRSS'] / 2**20:.0f} -> {after['VmRSS'] / 2**20:.0f} MB; "
            f"of it anonymous {anon / 1024:.1f} KB each), "
            f"opened in {seconds:.1f} s ({n / seconds:.0f}/s)",
            flush=True,
        )
        if twin is not None:  # after the memory figure, which the requests would blur
            bare = Server(twin, extra)
            bare.wait_ready()
            loaded = await Heartbeats.on(server, secrets)
            await compare_heartbeats(loaded, await Heartbeats.on(bare, secrets), n)
        gone = sum(conn.state is not State.OPEN for conn in conns)
        if gone:  # the figures above would be of fewer sockets than they say
            raise RuntimeError(f"{gone} of the {n} sockets were closed meanwhile")
    finally:
        server.stop()
        if bare is not None:
            bare.stop()
        await close_all(conns)


class Watchers:
    """Customer sockets subscribed to the watched device, each read by a task
    that notes when a command's ``completed`` update reached it."""

    def __init__(self, conns: list[ClientConnection]) -> None:
        self.conns = conns
        self.arrivals: defaultdict[str, list[float]] = defaultdict(list)
        self.everyone: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.readers: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await asyncio.gather(*(self.subscribe(conn) for conn in self.conns))
        self.readers = [asyncio.create_task(self.read(conn)) for conn in self.conns]

    @staticmethod
    async def subscribe(conn: ClientConnection) -> None:
        await conn.send(json.dumps({"type": "subscribe", "deviceId": WATCHED}))
        while json.loads(await conn.recv())["type"] != "subscribed":
            pass

    async def read(self, conn: ClientConnection) -> None:
        async for raw in conn:
            at = time.perf_counter()
            event = json.loads(raw)
            if event["type"] == "command_update" and event["data"]["status"] == "completed":
                command = event["data"]["id"]
                self.arrivals[command].append(at)
                if len(self.arrivals[command]) == len(self.conns):
                    self.everyone[command].set()

    async def delays(self, command: str, sent: float) -> list[float]:
        """Each subscriber's delay from ``sent`` to the command's completed update."""
        await asyncio.wait_for(self.everyone[command].wait(), 60)
        return [at - sent for at in self.arrivals[command]]

    def stop(self) -> None:
        for task in self.readers:
            task.cancel()


async def completions(server: Server, secret: str, watchers: Watchers, results: int) -> list[float]:
    """``results`` commands of the watched device enqueued, claimed and then
    completed one by one (REST); every subscriber's delay for each."""
    customer = {"Authorization": f"Bearer {customer_token(OWNER)}"}
    delays: list[float] = []
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        credentials = {"deviceId": WATCHED, "deviceSecret": secret}
        token = (await http.post("/api/v1/device/auth", json=credentials)).json()["token"]
        device = {"X-Device-Token": token}
        status = await http.get(f"/api/v1/customer/devices/{WATCHED}/status", headers=customer)
        session = status.json()["device"].get("activeSession")
        if session is None:
            new = {"deviceId": WATCHED, "type": "diagnostic"}
            answer = await http.post("/api/v1/customer/sessions", json=new, headers=customer)
            session = answer.json()["session"]["id"]
        enqueue = f"/api/v1/customer/sessions/{session}/commands"
        claim = {"limit": 1, "visibilityTimeout": 60000}
        for _ in range(results):
            await http.post(enqueue, json={"type": "job"}, headers=customer)
            answer = await http.post("/api/v1/device/commands/claim", json=claim, headers=device)
            (command,) = answer.json()["commands"]
            await asyncio.sleep(0.2)  # the enqueued and claimed updates are through
            result: dict[str, Any] = {"claimToken": command["claimToken"], **RESULT}
            path = f"/api/v1/device/commands/{command['id']}/result"
            sent = time.perf_counter()
            answer = await http.post(path, json=result, headers=device)
            assert answer.status_code == 200, answer.text
            delays += await watchers.delays(command["id"], sent)
    return sorted(delays)


async def fan_out(data_dir: Path, secrets: dict[str, str], subscribers: int, total: int,
                  results: int, extra: list[str]) -> None:  # fmt: skip
    server = Server(data_dir, extra)
    server.wait_ready()
    idle: list[ClientConnection] = []
    watchers = Watchers([])
    try:
        watchers = Watchers((await open_all([customer_url(server, OWNER)] * subscribers))[0])
        await watchers.start()
        for upto in (100, total - subscribers):
            more = (customer_url(server, f"c-{i}") for i in range(len(idle), upto))
            idle += (await open_all(more))[0]
            delays = await completions(server, secrets[WATCHED], watchers, results)
            p50, p99 = delays[len(delays) // 2], delays[int(len(delays) * 0.99)]
            print(
                f"  {subscribers} subscribers beside {len(idle)} idle customer sockets: "
                f"result -> command_update p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms "
                f"(max {delays[-1] * 1000:.0f} ms; {len(delays)} deliveries)",
                flush=True,
            )
    finally:
        watchers.stop()
        server.stop()
        await close_all(idle + watchers.conns)


async def run(
    sizes: list[int], kinds: list[str], subscribers: int, results: int, extra: list[str]
) -> None:
    print(f"open files: {raise_open_files()} per process (client and server)")
    print(f"server: gateway-server serve {shlex.join(extra)}".rstrip())
    with tempfile.TemporaryDirectory(prefix="gateway-bench-sockets-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir(mode=0o700)
        started = time.perf_counter()
        secrets = await seed(data_dir, max(sizes))
        print(f"seeded {len(secrets)} devices in {time.perf_counter() - started:.0f} s")
        twin = Path(tmp) / "twin"  # the heartbeats' server with no socket, on a copy
        shutil.copytree(data_dir, twin)
        print("memory per idle socket and time to open:")
        for n in sizes:
            for kind in kinds:
                beats = n == max(sizes) and kind == "device"
                await memory(data_dir, secrets, n, kind, extra, twin if beats else None)
        if subscribers:
            print("fan-out of one command_update:")
            await fan_out(data_dir, secrets, subscribers, max(sizes), results, extra)


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2:])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,5000,10000", help="numbers of idle sockets")
    parser.add_argument("--kinds", default="device,customer", help="sockets to open idle")
    parser.add_argument("--subscribers", type=int, default=1000, help="0: no fan-out part")
    parser.add_argument("--results", type=int, default=10, help="results per fan-out round")
    parser.add_argument("--server-args", default="", help="more flags for gateway-server serve")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    kinds = args.kinds.split(",")
    extra = shlex.split(args.server_args)
    asyncio.run(run(sizes, kinds, args.subscribers, args.results, extra))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
