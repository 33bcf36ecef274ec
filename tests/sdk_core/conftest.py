from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import FakeClock, LocalServer


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def local_server() -> Iterator[LocalServer]:
    server = LocalServer()
    server.start()
    yield server
    server.stop()
