"""Claim + complete cycles per second on PostgreSQL, with one and with two
server processes, as ratios to the SQLite single-process figure measured in
the same run; bench_gateway.py's floor (its bare routes running only the two
queue statements on SQLite) beside them. On demand, not in CI.

Three servers run side by side, each on a database of its own:

- sqlite: bench_gateway.py's server (the gateway on SQLite, and the floor routes)
- postgresql x1: ``gateway-server serve --database-url postgresql+asyncpg://...``
- postgresql x2: the same with ``--workers 2`` (two processes on one port)
- postgresql x1 async commit: x1 on a database with ``synchronous_commit =
  off``, durable across a crash of the server as SQLite's NORMAL is, not of
  the machine: how much of a cycle is PostgreSQL's flush of its log at each
  commit (two a cycle). A reference: the server's promise that nothing
  acknowledged is lost needs ``synchronous_commit = on``.

Each round measures, for ``--seconds`` each, ``--workers`` concurrent device
workers doing claim + complete on one device's queue on each server in turn
(keep-alive connections; with two processes the kernel spreads them), and
prints the ratios to that round's SQLite figure; the medians are the result.
The load generator, the servers and PostgreSQL share the machine: on 2 cores
two server processes compete with PostgreSQL and the client for the CPU, so
read x2 as "what a second process adds here", not as what it adds on a
machine with cores to spare (docs/deployment.md, Capacity).

    python benchmarks/bench_scaleout.py [--seconds 2] [--rounds 3] [--workers 20]

Needs PostgreSQL at 127.0.0.1:5432 (trust auth, user postgres); makes and
drops its own databases.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Iterator

import httpx
import sqlalchemy as sa
from bench_gateway import RESULT, SERVER, RawConnection, free_port, queue_size, timed, wait_until_up
from sqlalchemy.ext.asyncio import create_async_engine

SECRET = "bench-secret-" + "z" * 32  # bench_gateway's server uses this one
ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
UNLIMITED = ("--device-rate-per-minute", "1000000000", "--customer-rate-per-minute", "1000000000")


async def _admin(statement: str) -> None:
    engine = create_async_engine(ADMIN, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


@contextlib.contextmanager
def postgres_database(*settings: str) -> Iterator[str]:
    """A new database, with ``ALTER DATABASE ... SET`` of each of ``settings``."""
    name = f"gateway_bench_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    for setting in settings:
        asyncio.run(_admin(f'ALTER DATABASE "{name}" SET {setting}'))
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def server(argv: list[str], port: int) -> Iterator[str]:
    proc = subprocess.Popen(argv)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url)
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


async def queue(url: str, workers: int, prefill: int) -> dict[str, str]:
    """A device with ``prefill`` commands queued: its headers."""
    from gateway_server import CustomerVerifier  # noqa: PLC0415

    token = CustomerVerifier(secret=SECRET, audience="gateway").mint("bench")
    customer = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        r = await http.post(
            "/api/v1/customer/devices/provision", json={"deviceId": "bench"}, headers=customer
        )
        code = r.json()["device"]["activationCode"]
        r = await http.post(
            "/api/v1/device/register", json={"deviceId": "bench", "activationCode": code}
        )
        secret = r.json()["deviceSecret"]
        r = await http.post(
            "/api/v1/device/auth", json={"deviceId": "bench", "deviceSecret": secret}
        )
        device = {"X-Device-Token": r.json()["token"]}
        r = await http.post(
            "/api/v1/customer/sessions",
            json={"deviceId": "bench", "type": "diagnostic"},
            headers=customer,
        )
        session = r.json()["session"]["id"]
    port = int(url.rsplit(":", 1)[1])
    conns = [RawConnection("127.0.0.1", port) for _ in range(workers)]
    body = json.dumps({"type": "job"}).encode()
    path = f"/api/v1/customer/sessions/{session}/commands"
    for _ in range(prefill // workers):
        await asyncio.gather(*(c.post(path, body, customer) for c in conns))
    return device


def cycles(
    url: str, workers: int, prefix: str, headers: dict[str, str]
) -> Callable[[int], Awaitable[None]]:
    """One claim + complete by worker ``i``; new connections each time this is
    called (kept-alive ones idle for longer than uvicorn keeps them are closed)."""
    conns = [RawConnection("127.0.0.1", int(url.rsplit(":", 1)[1])) for _ in range(workers)]
    claim_body = json.dumps({"limit": 1, "visibilityTimeout": 60000}).encode()

    async def cycle(i: int) -> None:
        status, body = await conns[i].post(f"{prefix}/claim", claim_body, headers)
        assert status == 200, (status, body)
        (command,) = json.loads(body)["commands"]  # the queue never runs dry: see queue_size
        result = json.dumps({**RESULT, "claimToken": command["claimToken"]}).encode()
        status, body = await conns[i].post(f"{prefix}/{command['id']}/result", result, headers)
        assert status == 200, (status, body)

    return cycle


async def run(urls: dict[str, str], seconds: float, rounds: int, workers: int) -> None:
    prefill = queue_size(rounds, seconds)  # SQLite's; PostgreSQL's cycles are slower here
    phases: dict[str, tuple[str, str, dict[str, str]]] = {}
    for name, url in urls.items():
        queued = prefill if name == "sqlite" else prefill // 4
        phases[name] = (url, "/api/v1/device/commands", await queue(url, workers, queued))
        if name == "sqlite":  # bench_gateway's floor, on the SQLite server's second file
            phases["floor"] = (url, "/bench/floor", {})
    for url, prefix, headers in phases.values():
        await timed(workers, 0.5, cycles(url, workers, prefix, headers))  # warm up
    rows: dict[str, list[float]] = {name: [] for name in phases}
    ratios: dict[str, list[float]] = {name: [] for name in phases}
    for n in range(rounds):
        for name, (url, prefix, headers) in phases.items():
            one = cycles(url, workers, prefix, headers)
            rows[name].append(await timed(workers, seconds, one))
        base = rows["sqlite"][-1]
        for name in phases:
            ratios[name].append(rows[name][-1] / base)
        shown = ", ".join(f"{name} {ratios[name][-1]:.2f}x" for name in phases)
        print(f"  round {n + 1}: sqlite {base:6.0f} cyc/s; {shown}")
    print(f"claim + complete cycles, {workers} workers on one device's queue (medians):")
    for name in phases:
        values = ratios[name]
        spread = f"rounds {min(values):.2f} to {max(values):.2f}"
        print(
            f"  {name:27s} {statistics.median(rows[name]):7.0f} cyc/s  "
            f"{statistics.median(values):.2f}x sqlite  ({spread})"
        )
    print(f"({rounds} rounds of {seconds:g} s per server)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0, help="per server and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=20)
    args = parser.parse_args()
    ports = [free_port() for _ in range(4)]
    queued = str(queue_size(args.rounds, args.seconds))
    with contextlib.ExitStack() as stack:
        data = stack.enter_context(tempfile.TemporaryDirectory(prefix="gateway-bench-"))
        urls = {
            "sqlite": stack.enter_context(
                server([sys.executable, "-c", SERVER, str(ports[0]), data, queued, "0"], ports[0])
            )
        }
        for name, port, extra, settings in (
            ("postgresql x1", ports[1], (), ()),
            ("postgresql x2", ports[2], ("--workers", "2"), ()),
            ("postgresql x1 async commit", ports[3], (), ("synchronous_commit = off",)),
        ):
            database = stack.enter_context(postgres_database(*settings))
            urls[name] = stack.enter_context(
                server(
                    [sys.executable, "-m", "gateway_server._cli", "serve", "--port", str(port),
                     "--database-url", database, "--jwt-secret", SECRET, "--data-dir",
                     tempfile.mkdtemp(dir=data), "--log-level", "warning", *UNLIMITED, *extra],
                    port,
                )
            )  # fmt: skip
        asyncio.run(run(urls, args.seconds, args.rounds, args.workers))


if __name__ == "__main__":
    main()
