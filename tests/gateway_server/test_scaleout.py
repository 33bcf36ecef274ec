"""Several server processes on one PostgreSQL database: ``serve --workers N``
on one port, commands completed exactly once across two processes, the
database lost and found again, and the schema upgraded with every row kept
(on each backend)."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from gateway_sdk import AsyncCustomerClient, AsyncDeviceClient
from gateway_server import CustomerVerifier, _schema, storage
from tests.gateway_sdk.test_workers import work
from tests.gateway_support import (
    Backend,
    ServerProcess,
    _admin,
    backend,
    running_gateway,
)

SECRET = "scale-test-secret-" + "z" * 24
FAST = ("--device-rate-per-minute", "1000000", "--customer-rate-per-minute", "1000000")
ON_POSTGRES = {"backend": "postgresql"}


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
    return found


@pytest.mark.one_backend("SQLite is what is refused")
def test_more_workers_than_one_are_refused_on_sqlite(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gateway_server._cli", "serve", "--workers", "2",
         "--data-dir", str(tmp_path / "data"), "--port", "0"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "--workers 2 needs a database several processes can share" in done.stderr


@pytest.mark.one_backend("several processes need PostgreSQL", **ON_POSTGRES)
def test_workers_share_one_port_and_stop_together(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", SECRET, "--workers", "2")
    server.start()
    try:
        assert server.proc is not None
        # the spawned servers (multiprocessing's resource tracker is a child too)
        workers = [w for w in _children(server.proc.pid) if b"spawn_main" in _cmdline(w)]
        assert len(workers) == 2
        # Each process names its request ids with a prefix of its own; fresh
        # connections are spread over both by the kernel (bounded tries).
        prefixes = set()
        for _ in range(200):
            r = httpx.get(f"{server.url}/readyz", timeout=5)
            assert r.status_code == 200
            prefixes.add(r.headers["x-request-id"][:16])
            if len(prefixes) == 2:
                break
        assert len(prefixes) == 2
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(30) == 0
        assert not any(_alive(w) for w in workers)  # the parent waited for both
    finally:
        server.stop()


def _cmdline(pid: int) -> bytes:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    return b""


def _alive(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return False


@pytest.mark.timeout(240)
@pytest.mark.one_backend("two processes share one PostgreSQL database", **ON_POSTGRES)
async def test_forty_workers_on_two_processes_complete_every_command_exactly_once(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    servers = [ServerProcess(data, SECRET, *FAST, "--max-claims", "50") for _ in range(2)]
    for server in servers:
        server.start()
    token = CustomerVerifier(secret=SECRET, audience="gateway").mint("cust-a")
    commands = 600
    try:
        async with httpx.AsyncClient(timeout=60) as a, httpx.AsyncClient(timeout=60) as b:
            https = [a, b]
            urls = [s.url for s in servers]
            cust = AsyncCustomerClient(urls[0], token, http_client=a)
            code = (await cust.devices.provision("fleet-01")).activation_code
            first = AsyncDeviceClient(urls[1], "fleet-01", http_client=b)
            await first.register(code)
            secret = first.secret_store.load()
            session = await cust.sessions.create("fleet-01")
            for i in range(commands):  # enqueued through both processes
                enqueue = AsyncCustomerClient(urls[i % 2], token, http_client=https[i % 2])
                await enqueue.sessions.enqueue(session.id, f"job_{i}", {"i": i}, priority=i % 3)

            def client(i: int) -> AsyncDeviceClient:  # worker i works through process i % 2
                return AsyncDeviceClient(urls[i % 2], "fleet-01", secret, http_client=https[i % 2])

            accepted, crashes = await work(client, commands, workers=40, rng=random.Random(20))
        url = backend().url(data)
        assert url is not None
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                query = sa.text("SELECT state, count(*) FROM commands GROUP BY state")
                states: dict[str, int] = dict((await conn.execute(query)).all())
        finally:
            await engine.dispose()
    finally:
        for server in servers:
            server.stop()
    assert crashes > 0
    assert states == {"completed": commands}
    assert len(accepted) == commands
    assert set(accepted.values()) == {1}  # never completed twice


@pytest.mark.one_backend("the test cuts PostgreSQL's connections", **ON_POSTGRES)
async def test_a_lost_database_is_503_then_comes_back_without_a_restart(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gw:
        device = await gw.device("dev-001")
        session = await gw.session("dev-001")
        kept = [await gw.enqueue(session, f"before-{i}") for i in range(3)]
        url = gw.api.services.database.engine.url
        name = url.database
        assert (await gw.call("GET", "/readyz")).status_code == 200
        # The database goes away: no new connection, every open one cut.
        await _admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await _admin(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        )
        try:
            ready = await gw.call("GET", "/readyz")
            assert ready.status_code == 503  # within one check
            assert ready.json()["checks"] == {"database": False}
            gw.check_contract = False  # 503 is in the description, not per operation
            for r in (
                await gw.call("POST", "/api/v1/device/commands/claim", json_body={"limit": 1}, headers={"X-Device-Token": device["X-Device-Token"]}),
                await gw.call("POST", f"/api/v1/customer/sessions/{session}/commands", json_body={"type": "lost"}, headers=gw.customer()),
                await gw.call("GET", "/api/v1/customer/devices", headers=gw.customer()),
            ):  # fmt: skip
                assert r.status_code == 503, r.text
                assert r.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
        finally:
            await _admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        gw.check_contract = True
        assert (await gw.call("GET", "/readyz")).status_code == 200  # no restart
        claimed = await gw.claim(device, limit=10)
        assert [c["id"] for c in claimed] == kept  # all acknowledged, none of the refused
        r = await gw.result(device, claimed[0]["id"], claimed[0]["claimToken"])
        assert r.status_code == 200


# -- an upgrade from the previous schema version keeps every row ------------------------
def _value(column: sa.Column[Any]) -> Any:
    """A value of the column's type (the same for every key: foreign keys match)."""
    python = column.type.python_type
    values: dict[type, Any] = {int: 1, float: 1.5, str: "v1", bool: True, bytes: b"\x01"}
    if python is dict:
        return {"k": 1}
    if python is list:
        return [1]
    return values[python]


async def _fill_every_table(conn: AsyncConnection) -> dict[str, list[tuple[Any, ...]]]:
    """A row in every table there is (foreign keys first), and every table's rows."""
    metadata = sa.MetaData()
    await conn.run_sync(metadata.reflect)
    rows = {}
    for table in metadata.sorted_tables:
        if (
            table.name != "schema_version"
            and not (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar()
        ):
            await conn.execute(sa.insert(table).values({c.name: _value(c) for c in table.columns}))
    for table in metadata.sorted_tables:
        rows[table.name] = sorted(
            map(tuple, (await conn.execute(sa.select(table))).all()), key=repr
        )
    return rows


RELEASED = 4  # the schema version of the last release, which users' databases are at


async def test_an_upgrade_from_the_previous_version_keeps_every_row(
    tmp_path: Path, db_backend: Backend
) -> None:
    url = db_backend.url(tmp_path / "data") or f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    engine = storage.connect(url)
    try:
        # the schema of the last release (version 4), then every step since (5 to 7)
        previous = [step for step in _schema.MIGRATIONS if step[0] <= RELEASED]
        assert await storage.migrate(engine, previous) == RELEASED
        async with engine.begin() as conn:
            if db_backend.name == "postgresql":  # as versions 1 to 4 made it, 32-bit
                await conn.execute(sa.text("ALTER TABLE commands ALTER COLUMN seq TYPE INTEGER"))
                await conn.execute(sa.text("ALTER SEQUENCE commands_seq_seq AS INTEGER"))
            before = await _fill_every_table(conn)
        assert await _schema.upgrade(engine) == _schema.SCHEMA_VERSION
        await engine.dispose()  # read as a server started after the upgrade would
        async with engine.connect() as conn:
            metadata = sa.MetaData()
            await conn.run_sync(metadata.reflect)
            after = {
                t.name: {tuple(r) for r in (await conn.execute(sa.select(t))).all()}
                for t in metadata.sorted_tables
            }
            if db_backend.name == "postgresql":  # version 6: a command sequence of 64 bits
                widest = sa.text(
                    "SELECT max_value FROM pg_sequences WHERE sequencename = 'commands_seq_seq'"
                )
                assert (await conn.execute(widest)).scalar_one() == 2**63 - 1
                assert isinstance(metadata.tables["commands"].c.seq.type, sa.BigInteger)
    finally:
        await engine.dispose()
    for table, rows in before.items():
        if table != "schema_version":
            assert set(rows) <= after[table], table
    assert len([t for t, rows in before.items() if rows]) == len(before)  # none was empty
