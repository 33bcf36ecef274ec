"""Helpers for tests of our own gateway: the app in-process, driven for real."""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import functools
import importlib.util
import json
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO, Any

import attrs
import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.applications import Starlette
from websockets.client import ClientProtocol
from websockets.frames import Frame
from websockets.protocol import State
from websockets.uri import parse_uri

from gateway_server import GatewayApp, Settings, create_app
from gateway_server.device_gateway import DeviceGateway
from tests.contract import Contract, load

TIMESTAMP = "2024-06-01T10:00:00Z"


class Clock:
    """A wall clock the test moves by hand, from the real time at its start
    (so tokens minted anywhere in a test agree with it)."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def api(app: Starlette) -> DeviceGateway:
    """The device gateway of an app made by ``create_app``."""
    assert isinstance(app, GatewayApp)
    return app.device_gateway


def customer_token(app: Starlette, customer: str = "cust-a") -> str:
    """A customer JWT the app accepts."""
    return api(app).verifier.mint(customer)


def settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Test settings on the database of the backend under test (see :class:`Backend`),
    unless ``database_url`` is among ``overrides``."""
    data_dir = tmp_path / "data"
    if "database_url" not in overrides:
        overrides["database_url"] = backend().url(data_dir)
    overrides.setdefault("grpc_enabled", False)  # the agent channel's tests ask for it
    return Settings(data_dir=data_dir, jwt_secret="test-secret-" + "x" * 32, **overrides)


@attrs.define
class Gateway:
    """An in-process gateway and an HTTP client to it; every exchange can be
    checked against contracts/gateway.openapi.yaml."""

    app: Starlette
    http: httpx.AsyncClient
    clock: Clock
    contract: Contract
    check_contract: bool = True

    @property
    def api(self) -> DeviceGateway:
        return api(self.app)

    def token(self, customer: str = "cust-a") -> str:
        return customer_token(self.app, customer)

    def customer(self, customer: str = "cust-a") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(customer)}"}

    async def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        if content is None and json_body is not None:
            content = json.dumps(json_body).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        response = await self.http.request(method, path, content=content, headers=headers)
        if self.check_contract and path.startswith(("/api/", "/healthz", "/readyz", "/version")):
            response.request.url = httpx.URL(
                "http://127.0.0.1:8080" + response.request.url.raw_path.decode()
            )
            self.contract.validate_response(response.request, response)
        return response

    async def provision(self, device_id: str, customer: str = "cust-a") -> str:
        r = await self.call(
            "POST",
            "/api/v1/customer/devices/provision",
            json_body={"deviceId": device_id},
            headers=self.customer(customer),
        )
        assert r.status_code == 201, r.text
        return str(r.json()["device"]["activationCode"])

    async def device(self, device_id: str, customer: str = "cust-a") -> dict[str, str]:
        """Provision, register and authenticate a device: its X-Device-Token header (and secret)."""
        code = await self.provision(device_id, customer)
        r = await self.call(
            "POST",
            "/api/v1/device/register",
            json_body={"deviceId": device_id, "activationCode": code},
        )
        assert r.status_code == 200, r.text
        secret = r.json()["deviceSecret"]
        r = await self.call(
            "POST", "/api/v1/device/auth", json_body={"deviceId": device_id, "deviceSecret": secret}
        )
        assert r.status_code == 200, r.text
        return {"X-Device-Token": r.json()["token"], "secret": secret}

    async def session(
        self, device_id: str, kind: str = "diagnostic", customer: str = "cust-a"
    ) -> str:
        r = await self.call(
            "POST",
            "/api/v1/customer/sessions",
            json_body={"deviceId": device_id, "type": kind},
            headers=self.customer(customer),
        )
        assert r.status_code == 201, r.text
        return str(r.json()["session"]["id"])

    async def enqueue(
        self, session_id: str, kind: str, priority: int = 0, customer: str = "cust-a"
    ) -> str:
        r = await self.call(
            "POST", f"/api/v1/customer/sessions/{session_id}/commands",
            json_body={"type": kind, "priority": priority, "parameters": {"n": 1}}, headers=self.customer(customer),
        )  # fmt: skip
        assert r.status_code == 201, r.text
        return str(r.json()["command"]["id"])

    async def claim(
        self, device: dict[str, str], limit: int = 1, visibility: int = 60_000
    ) -> list[dict[str, Any]]:
        r = await self.call(
            "POST",
            "/api/v1/device/commands/claim",
            json_body={"limit": limit, "visibilityTimeout": visibility},
            headers=_dev(device),
        )
        assert r.status_code == 200, r.text
        return list(r.json()["commands"])

    async def result(
        self, device: dict[str, str], command_id: str, token: str, status: str = "success"
    ) -> httpx.Response:
        body = {
            "claimToken": token,
            "status": status,
            "executedAt": TIMESTAMP,
            "duration": 0.5,
            "output": "done",
        }
        return await self.call(
            "POST",
            f"/api/v1/device/commands/{command_id}/result",
            json_body=body,
            headers=_dev(device),
        )


def _dev(device: dict[str, str]) -> dict[str, str]:
    return {"X-Device-Token": device["X-Device-Token"]}


@contextlib.asynccontextmanager
async def running_gateway(tmp_path: Path, **overrides: Any) -> AsyncIterator[Gateway]:
    clock = Clock()
    app = create_app(settings(tmp_path, **overrides), clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as http:
            yield Gateway(app, http, clock, load("gateway.openapi.yaml"))


def message(frame: Frame) -> Any:
    """A text frame's JSON."""
    return json.loads(bytes(frame.data))


class RawPeer:
    """A WebSocket client on a bare TCP socket (websockets' sans-I/O protocol)
    that reads only when asked and answers pings only when told to, and can
    shrink its receive buffer: a peer that stalls or dies, on demand."""

    def __init__(self, url: str, receive_buffer: int | None = None) -> None:
        uri = parse_uri(url)
        self.protocol = ClientProtocol(uri)
        self.sock = socket.socket()
        if receive_buffer is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(10)
        self.sock.connect((uri.host, uri.port))
        self.protocol.send_request(self.protocol.connect())
        self._flush()
        self.frames: list[Frame] = []
        while self.protocol.state is State.CONNECTING:
            self._read(answer=True)
        assert self.protocol.state is State.OPEN, self.protocol.handshake_exc

    def _flush(self, answer: bool = True) -> None:
        data = b"".join(self.protocol.data_to_send())
        if answer and data:
            self.sock.sendall(data)

    def _read(self, answer: bool) -> bool:
        """One read; False at the end of the stream."""
        data = self.sock.recv(65536)
        if data:
            self.protocol.receive_data(data)
        else:
            self.protocol.receive_eof()
        self.frames += [e for e in self.protocol.events_received() if isinstance(e, Frame)]
        self._flush(answer)  # a pong, or the echo of a close: only when answering
        return bool(data)

    def send(self, message: dict[str, Any]) -> None:
        self.protocol.send_text(json.dumps(message).encode())
        self._flush()

    def next_frame(self, answer: bool = True) -> Frame | None:
        while not self.frames:
            if not self._read(answer):
                return None
        return self.frames.pop(0)

    def until_closed(self, answer: bool = True) -> list[Frame]:
        """Every frame until the server closes the connection."""
        frames = []
        while (frame := self.next_frame(answer)) is not None:
            frames.append(frame)
        return frames

    def close(self) -> None:
        self.sock.close()


POSTGRES_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
BACKENDS = ("sqlite", "postgresql")


async def _admin(statement: str) -> None:
    admin = create_async_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(sa.text(statement))
    finally:
        await admin.dispose()


def _admin_now(statement: str) -> None:
    """``_admin`` from sync code or from inside a running event loop (on a thread of its own)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _admin(statement)).result()


def _new_database() -> str:
    name = f"gateway_test_{uuid.uuid4().hex[:12]}"
    _admin_now(f'CREATE DATABASE "{name}"')
    return name


def _drop_database(name: str) -> None:
    _admin_now(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def lasting_postgres_database() -> str:
    """A new database for the rest of this process (an app built at import, as
    schemathesis needs it), dropped when the process exits: its URL."""
    name = _new_database()
    # no thread pool at exit: no event loop runs there anyway
    atexit.register(asyncio.run, _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


@functools.cache
def postgres_missing() -> str | None:
    """Why PostgreSQL cannot be tested here (no asyncpg, no server), or None."""
    if importlib.util.find_spec("asyncpg") is None:
        return "asyncpg is not installed"
    try:
        _admin_now("SELECT 1")
    except Exception as exc:
        return f"no PostgreSQL on 127.0.0.1:5432 ({type(exc).__name__})"
    return None


class Backend:
    """The database the server tests run on. ``sqlite``: the default file in each
    data directory. ``postgresql``: a fresh database of the machine's server for
    each data directory a test uses (two gateways on one directory share it, as
    they share the SQLite file), dropped when the test ends."""

    def __init__(self, name: str) -> None:
        assert name in BACKENDS, name
        self.name = name
        self._databases: dict[Path, str] = {}

    def url(self, data_dir: Path) -> str | None:
        """The ``database_url`` of a server on ``data_dir`` (None: its SQLite file)."""
        if self.name == "sqlite":
            return None
        key = data_dir.resolve()
        if key not in self._databases:
            self._databases[key] = _new_database()
        return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{self._databases[key]}"

    def drop(self) -> None:
        for name in self._databases.values():
            _drop_database(name)
        self._databases.clear()


_backend = Backend("sqlite")


def backend() -> Backend:
    """The backend of the test running now (SQLite outside the server tests)."""
    return _backend


def database_flags(data_dir: Path) -> list[str]:
    """The ``gateway-server`` flags of the backend's database for ``data_dir``."""
    url = backend().url(data_dir)
    return [] if url is None else ["--database-url", url]


@contextlib.contextmanager
def using_backend(name: str) -> Iterator[Backend]:
    """Run the code inside on ``name``; its PostgreSQL databases are dropped after.
    Skips the test when PostgreSQL is asked for and cannot be had."""
    global _backend
    if name == "postgresql" and (reason := postgres_missing()) is not None:
        pytest.skip(reason)
    previous, _backend = _backend, Backend(name)
    try:
        yield _backend
    finally:
        current, _backend = _backend, previous
        current.drop()


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A fresh PostgreSQL database on the machine's server, dropped afterwards.

    Skips the test when asyncpg or the server is not there."""
    if (reason := postgres_missing()) is not None:
        pytest.skip(reason)
    name = f"gateway_test_{uuid.uuid4().hex[:12]}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """``gateway-server serve`` as a process on a free port of 127.0.0.1, with
    ``extra`` flags; what it writes (stdout and stderr) goes to ``log`` when
    given, else its stderr is kept in a pipe."""

    def __init__(
        self,
        data_dir: Path,
        secret: str,
        *extra: str,
        log: Path | None = None,
        log_level: str = "warning",
    ) -> None:
        self.data_dir = data_dir
        self.secret = secret
        self.extra = extra
        self.log = log
        self.log_level = log_level
        if not any(flag.startswith("--database-url") for flag in extra):
            self.extra = (*extra, *database_flags(data_dir))
        if "--grpc-enabled" not in extra:  # the agent channel's tests ask for it
            self.extra = (*self.extra, "--no-grpc-enabled")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    def start(self) -> None:
        output: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}
        if self.log is not None:
            self._log_file = self.log.open("ab")
            output = {"stdout": self._log_file, "stderr": subprocess.STDOUT}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gateway_server._cli", "serve", "--port", str(self.port),
             "--data-dir", str(self.data_dir), "--jwt-secret", self.secret,
             "--log-level", self.log_level, *self.extra],
            **output,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("server did not become ready")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
