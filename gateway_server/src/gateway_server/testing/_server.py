"""The kit's server for tests: the reference server under uvicorn in a
thread on a free loopback port, with its clock in the test's hands."""

from __future__ import annotations

import asyncio
import secrets
import socket
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs
import uvicorn

from .._app import GatewayApp, create_app
from .._cli import _create_user, serving_options
from .._settings import Settings
from ..emulators import PREFIX, credentials

__all__ = [
    "CUSTOMER",
    "PARTNER",
    "ComplianceUser",
    "FaultControl",
    "LocalGateway",
    "MovableClock",
    "RegisteredDevice",
]

CUSTOMER = "kit-customer"
PARTNER = "kit-partner"  # the compliance platform's partner of the kit's users
# Limits a test suite does not trip over; the emulators keep the vendors' own.
QUIET = {
    "device_rate_per_minute": 1_000_000,
    "customer_rate_per_minute": 1_000_000,
    "auth_attempts_per_minute": 100_000,
    "log_level": "warning",
}


class MovableClock:
    """Wall-clock time that a test can move forward (``advance``); the server,
    its emulators included, reads its time from it."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@attrs.frozen(repr=False)
class RegisteredDevice:
    """A device provisioned for ``customer`` and registered: its id and secret."""

    device_id: str
    secret: str
    customer: str

    def __repr__(self) -> str:
        return f"RegisteredDevice(device_id={self.device_id!r}, customer={self.customer!r})"


@attrs.frozen(repr=False)
class ComplianceUser:
    """A compliance platform user of the kit's partner: ``username``, ``password``
    (random, made for this server) and ``role`` (admin, operator or viewer)."""

    username: str
    password: str
    role: str

    def __repr__(self) -> str:
        return f"ComplianceUser(username={self.username!r}, role={self.role!r})"


class FaultControl:
    """Arms faults through the server's control endpoint (``/emulators/_control/faults``)."""

    def __init__(self, base_url: str) -> None:
        self.url = f"{base_url}{PREFIX}/_control/faults"

    def arm(
        self,
        route: str,
        kind: str,
        *,
        count: int = 1,
        method: str | None = None,
        status: int = 503,
        delay: float = 2.0,
        retry_after: int = 1,
    ) -> dict[str, Any]:
        """The next ``count`` calls of ``route`` (a path, ``*`` globs allowed)
        get ``kind``: ``"status"`` (a 5xx), ``"429"``, ``"slow"`` or ``"drop"``."""
        import httpx  # noqa: PLC0415

        body: dict[str, Any] = {
            "route": route,
            "kind": kind,
            "count": count,
            "status": status,
            "delay": delay,
            "retry_after": retry_after,
        }
        if method:
            body["method"] = method
        response = httpx.post(self.url, json=body, timeout=10)
        response.raise_for_status()
        armed: dict[str, Any] = response.json()
        return armed

    def armed(self) -> list[dict[str, Any]]:
        import httpx  # noqa: PLC0415

        faults: list[dict[str, Any]] = httpx.get(self.url, timeout=10).json()["faults"]
        return faults

    def clear(self) -> None:
        import httpx  # noqa: PLC0415

        httpx.delete(self.url, timeout=10).raise_for_status()


class LocalGateway:
    """The reference server under uvicorn in a thread, on 127.0.0.1 and a free
    port, with the emulators on (``emulate="all"``) and its own data directory."""

    def __init__(self, data_dir: Path | None = None, **settings: Any) -> None:
        self.clock = MovableClock()
        self.port = free_port()
        data_dir = data_dir or Path(tempfile.mkdtemp(prefix="gateway-kit-"))
        values = {**QUIET, "emulate": "all", **settings}
        self.settings = Settings(data_dir=data_dir, host="127.0.0.1", port=self.port, **values)
        self.app: GatewayApp = create_app(self.settings, clock=self.clock)
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level=self.settings.log_level,
            lifespan="on",
            **serving_options(self.settings),  # served exactly as `gateway-server serve` does
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="gateway-kit", daemon=True)
        self.faults = FaultControl(self.url)
        self._users: dict[str, ComplianceUser] = {}
        self._users_lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def emulator_url(self, name: str) -> str:
        """Where an emulator answers: ``http://127.0.0.1:<port>/emulators/<name>``."""
        return f"{self.url}{PREFIX}/{name}"

    def start(self) -> LocalGateway:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the gateway server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)

    def __enter__(self) -> LocalGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- credentials -------------------------------------------------------------------
    def customer_token(self, customer: str = CUSTOMER, ttl: int = 24 * 3600) -> str:
        """A customer JWT the server accepts."""
        return self.app.device_gateway.verifier.mint(customer, ttl=ttl)

    def credentials(self, emulator: str) -> dict[str, str]:
        """An emulator's client arguments (``base_url`` and its first seeded credentials)."""
        return credentials(self.settings, self.url)[emulator]

    def register_device(self, customer: str = CUSTOMER) -> RegisteredDevice:
        """A new device of ``customer``, provisioned and registered through the
        gateway's own API (with gateway_sdk)."""
        from gateway_sdk import CustomerClient, DeviceClient  # noqa: PLC0415

        device_id = f"kit-{uuid.uuid4().hex[:12]}"
        with CustomerClient(self.url, self.customer_token(customer)) as customer_client:
            code = customer_client.devices.provision(device_id, name="kit device").activation_code
        with DeviceClient(self.url, device_id) as device:
            device.register(code)
            secret = device.secret_store.load()
        assert secret is not None
        return RegisteredDevice(device_id, secret, customer)

    def compliance_user(self, role: str = "admin") -> ComplianceUser:
        """The compliance platform's user of ``role`` in the kit's partner, made
        the first time it is asked for (as ``gateway-server create-user`` does,
        beside the running server) with a random password, then reused."""
        with self._users_lock:
            user = self._users.get(role)
            if user is None:
                user = ComplianceUser(f"kit-{role}", secrets.token_urlsafe(18), role)
                made = _create_user(self.settings, user.username, user.password, role, PARTNER)
                # its own event loop on a thread of its own: the caller may be in a running loop
                with ThreadPoolExecutor(1) as pool:
                    pool.submit(asyncio.run, made).result()
                self._users[role] = user
            return user
