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
- ``compliance_user`` (session): the compliance platform's admin of the
  kit's partner (``LocalGateway.compliance_user(role)`` makes the others);
  ``compliance_client`` and ``async_compliance_client`` are logged in as it.
- ``emulator_faults``: arms faults for the test (also from
  ``@pytest.mark.emulator_fault(route, kind, count=1, ...)``), cleared after it.

The server itself never imports a client package: this module does, inside
its fixtures only (the architecture check allows this one module).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, TypedDict

import pytest

from ._server import ComplianceUser, FaultControl, LocalGateway, MovableClock, RegisteredDevice

if TYPE_CHECKING:
    from compliance_sdk import AsyncComplianceClient, ComplianceClient
    from exasperation_sdk import AsyncExasperationClient, ExasperationClient
    from gateway_sdk import AsyncCustomerClient, AsyncDeviceClient, CustomerClient, DeviceClient
    from kubenexus_sdk import AsyncKubeNexusClient, KubeNexusClient
    from nexthink_sdk import AsyncNexthinkClient, NexthinkClient

__all__ = ["ComplianceUser", "FaultControl", "LocalGateway", "MovableClock", "RegisteredDevice"]


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


@pytest.fixture(scope="session")
def compliance_user(gateway_server: LocalGateway) -> ComplianceUser:
    """The compliance platform's admin of the kit's partner."""
    return gateway_server.compliance_user("admin")


@pytest.fixture
def compliance_client(
    gateway_server: LocalGateway, compliance_user: ComplianceUser
) -> Iterator[ComplianceClient]:
    from compliance_sdk import ComplianceClient  # noqa: PLC0415

    user = compliance_user
    with ComplianceClient(gateway_server.url, username=user.username, password=user.password) as c:
        yield c


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

    @pytest_asyncio.fixture
    async def async_compliance_client(
        gateway_server: LocalGateway, compliance_user: ComplianceUser
    ) -> AsyncIterator[AsyncComplianceClient]:
        from compliance_sdk import AsyncComplianceClient  # noqa: PLC0415

        user = compliance_user
        async with AsyncComplianceClient(
            gateway_server.url, username=user.username, password=user.password
        ) as client:
            yield client
