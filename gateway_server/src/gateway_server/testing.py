"""The local integration kit as a pytest plugin: the reference server with
every vendor emulator on, and one configured client per package.

Installing ``gateway_server`` registers this module as a pytest plugin (entry
point ``pytest11``), so a user's test needs no set-up of its own::

    def test_search(exasperation_client):
        result = exasperation_client.search("password reset")
        assert result.sources

Fixtures (see docs/testing.md):

- ``gateway_server`` (session): a :class:`LocalGateway` running on a free
  127.0.0.1 port, SQLite in a temporary directory, emulators on; its
  ``clock`` moves the server's time (``gateway_server.clock.advance(900)``).
- ``gateway_server_settings`` (session): overrides of its settings; redefine
  it in a ``conftest.py`` to change them.
- ``gateway_customer_token``; ``gateway_device`` (a provisioned and
  registered device of that customer, new for each test).
- clients, sync and async: ``nexthink_client``, ``kubenexus_client``,
  ``exasperation_client``, ``gateway_device_client``,
  ``gateway_customer_client`` and their ``async_*`` twins.
- ``emulator_faults``: arms faults for the test (also from
  ``@pytest.mark.emulator_fault(route, kind, count=1, ...)``), cleared after it.

The server itself never imports a client package: this module does, inside
its fixtures only (the architecture check allows this one module).
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import attrs
import pytest
import uvicorn

from ._app import GatewayApp, create_app
from ._settings import Settings
from .emulators import PREFIX, credentials

if TYPE_CHECKING:
    from exasperation_sdk import AsyncExasperationClient, ExasperationClient
    from gateway_sdk import AsyncCustomerClient, AsyncDeviceClient, CustomerClient, DeviceClient
    from kubenexus_sdk import AsyncKubeNexusClient, KubeNexusClient
    from nexthink_sdk import AsyncNexthinkClient, NexthinkClient

__all__ = ["FaultControl", "LocalGateway", "MovableClock", "RegisteredDevice"]

CUSTOMER = "kit-customer"
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
            access_log=False,
            lifespan="on",
            ws="websockets",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="gateway-kit", daemon=True)
        self.faults = FaultControl(self.url)

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


class _NexthinkArgs(TypedDict):
    base_url: str
    token_url: str
    client_id: str
    client_secret: str


class _KubeNexusArgs(TypedDict):
    base_url: str
    username: str
    password: str


class _ExasperationArgs(TypedDict):
    base_url: str
    api_key: str


def _nexthink(server: LocalGateway) -> _NexthinkArgs:
    c = server.credentials("nexthink")
    return {
        "base_url": c["base_url"],
        "token_url": c["token_url"],
        "client_id": c["client_id"],
        "client_secret": c["client_secret"],
    }


def _kubenexus(server: LocalGateway) -> _KubeNexusArgs:
    c = server.credentials("kubenexus")
    return {"base_url": c["base_url"], "username": c["username"], "password": c["password"]}


def _exasperation(server: LocalGateway) -> _ExasperationArgs:
    c = server.credentials("exasperation")
    return {"base_url": c["base_url"], "api_key": c["api_key"]}


# -- the fixtures ------------------------------------------------------------------------
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "emulator_fault(route, kind, count=1, method=None, status=503, delay=2.0, "
        "retry_after=1): arm a fault on the kit's emulators for this test",
    )


@pytest.fixture(scope="session")
def gateway_server_settings() -> dict[str, Any]:
    """Settings of the kit's server beyond its defaults (redefine in a conftest.py)."""
    return {}


@pytest.fixture(scope="session")
def gateway_server(
    tmp_path_factory: pytest.TempPathFactory, gateway_server_settings: dict[str, Any]
) -> Iterator[LocalGateway]:
    """The reference server with every emulator, for the whole session."""
    with LocalGateway(tmp_path_factory.mktemp("gateway-kit"), **gateway_server_settings) as server:
        yield server


@pytest.fixture(scope="session")
def gateway_customer_token(gateway_server: LocalGateway) -> str:
    return gateway_server.customer_token()


@pytest.fixture
def gateway_device(gateway_server: LocalGateway) -> RegisteredDevice:
    """A device of the kit's customer, provisioned and registered for this test."""
    return gateway_server.register_device()


@pytest.fixture
def emulator_faults(
    gateway_server: LocalGateway, request: pytest.FixtureRequest
) -> Iterator[FaultControl]:
    """Faults for this test: armed from ``emulator_fault`` marks, and by hand; cleared after."""
    control = gateway_server.faults
    for mark in request.node.iter_markers("emulator_fault"):
        control.arm(*mark.args, **mark.kwargs)
    try:
        yield control
    finally:
        control.clear()


@pytest.fixture(autouse=True)
def _emulator_fault_marks(request: pytest.FixtureRequest) -> None:
    """A test marked ``emulator_fault`` gets its faults armed (and the server
    started) before its other fixtures; any other test pays nothing."""
    if request.node.get_closest_marker("emulator_fault") is not None:
        request.getfixturevalue("emulator_faults")


# Sync clients
@pytest.fixture
def nexthink_client(gateway_server: LocalGateway) -> Iterator[NexthinkClient]:
    from nexthink_sdk import NexthinkClient  # noqa: PLC0415

    with NexthinkClient(**_nexthink(gateway_server)) as client:
        yield client


@pytest.fixture
def kubenexus_client(gateway_server: LocalGateway) -> Iterator[KubeNexusClient]:
    from kubenexus_sdk import KubeNexusClient  # noqa: PLC0415

    with KubeNexusClient(**_kubenexus(gateway_server)) as client:
        yield client


@pytest.fixture
def exasperation_client(gateway_server: LocalGateway) -> Iterator[ExasperationClient]:
    from exasperation_sdk import ExasperationClient  # noqa: PLC0415

    with ExasperationClient(**_exasperation(gateway_server)) as client:
        yield client


@pytest.fixture
def gateway_customer_client(
    gateway_server: LocalGateway, gateway_customer_token: str
) -> Iterator[CustomerClient]:
    from gateway_sdk import CustomerClient  # noqa: PLC0415

    with CustomerClient(gateway_server.url, gateway_customer_token) as client:
        yield client


@pytest.fixture
def gateway_device_client(
    gateway_server: LocalGateway, gateway_device: RegisteredDevice
) -> Iterator[DeviceClient]:
    from gateway_sdk import DeviceClient  # noqa: PLC0415

    with DeviceClient(gateway_server.url, gateway_device.device_id, gateway_device.secret) as c:
        yield c


# The compliance platform's clients go here, beside the others, once compliance_sdk
# exists (compliance_client / async_compliance_client, and its gRPC agent).

# Async clients: async fixtures, run by pytest-asyncio (gateway-server[testing]).
try:
    import pytest_asyncio

    ASYNC_FIXTURES = True
except ImportError:  # pragma: no cover - the sync fixtures work without it
    ASYNC_FIXTURES = False

if ASYNC_FIXTURES:

    @pytest_asyncio.fixture
    async def async_nexthink_client(
        gateway_server: LocalGateway,
    ) -> AsyncIterator[AsyncNexthinkClient]:
        from nexthink_sdk import AsyncNexthinkClient  # noqa: PLC0415

        async with AsyncNexthinkClient(**_nexthink(gateway_server)) as client:
            yield client

    @pytest_asyncio.fixture
    async def async_kubenexus_client(
        gateway_server: LocalGateway,
    ) -> AsyncIterator[AsyncKubeNexusClient]:
        from kubenexus_sdk import AsyncKubeNexusClient  # noqa: PLC0415

        async with AsyncKubeNexusClient(**_kubenexus(gateway_server)) as client:
            yield client

    @pytest_asyncio.fixture
    async def async_exasperation_client(
        gateway_server: LocalGateway,
    ) -> AsyncIterator[AsyncExasperationClient]:
        from exasperation_sdk import AsyncExasperationClient  # noqa: PLC0415

        async with AsyncExasperationClient(**_exasperation(gateway_server)) as client:
            yield client

    @pytest_asyncio.fixture
    async def async_gateway_customer_client(
        gateway_server: LocalGateway, gateway_customer_token: str
    ) -> AsyncIterator[AsyncCustomerClient]:
        from gateway_sdk import AsyncCustomerClient  # noqa: PLC0415

        async with AsyncCustomerClient(gateway_server.url, gateway_customer_token) as client:
            yield client

    @pytest_asyncio.fixture
    async def async_gateway_device_client(
        gateway_server: LocalGateway, gateway_device: RegisteredDevice
    ) -> AsyncIterator[AsyncDeviceClient]:
        from gateway_sdk import AsyncDeviceClient  # noqa: PLC0415

        device = gateway_device
        async with AsyncDeviceClient(gateway_server.url, device.device_id, device.secret) as c:
            yield c
