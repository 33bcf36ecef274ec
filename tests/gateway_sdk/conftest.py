from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from gateway_server import create_app
from gateway_server._cli import socket_options
from tests.gateway_support import settings
from tests.support import LocalServer

FAST = {
    "device_rate_per_minute": 10**6,
    "customer_rate_per_minute": 10**6,
    "auth_attempts_per_minute": 10**4,
}


@pytest.fixture
def app(tmp_path: Path) -> Starlette:
    return create_app(settings(tmp_path, **FAST))


@pytest.fixture
def http(app: Starlette) -> Iterator[TestClient]:
    """The app in-process behind a sync httpx client (lifespan running)."""
    with TestClient(app, base_url="http://gateway.test") as client:
        yield client


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalServer, Starlette]]:
    """The gateway under uvicorn on 127.0.0.1, over a real socket."""
    configured = settings(tmp_path_factory.mktemp("live"), **FAST)
    application = create_app(configured)
    server = LocalServer(application, lifespan="on", **socket_options(configured))
    server.start()
    yield server, application
    server.stop()
