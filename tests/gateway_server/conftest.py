"""Every server test runs on SQLite and on PostgreSQL (the machine's server,
a fresh database per data directory; skipped, with the reason, when none
answers). A test marked ``one_backend(reason)`` runs once, on SQLite (it
starts its own databases, or tests what no database touches), or on the
backend named by ``one_backend(reason, backend="postgresql")``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.gateway_support import BACKENDS, Backend, Gateway, running_gateway, using_backend
from tests.redis_support import RedisServer


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "one_backend(reason, backend='sqlite'): run once, on that backend, not on each",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_backend" in metafunc.fixturenames:
        once = metafunc.definition.get_closest_marker("one_backend")
        names = BACKENDS if once is None else [once.kwargs.get("backend", "sqlite")]
        metafunc.parametrize("db_backend", names, indirect=True)


@pytest.fixture(autouse=True)
def db_backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    # unittest-style cases (hypothesis' state machines) are not parametrised: SQLite
    with using_backend(getattr(request, "param", "sqlite")) as chosen:
        yield chosen


@pytest.fixture
async def gw(tmp_path: Path) -> AsyncIterator[Gateway]:
    async with running_gateway(tmp_path) as gateway:
        yield gateway


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of the test's own on a free loopback port (it may stop it)."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()
