"""The gateway in-process (and over a socket) for the client tests; every
exchange a client makes is checked against contracts/gateway.openapi.yaml."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from gateway_server import create_app
from gateway_server._cli import socket_options
from tests.contract import Contract, load
from tests.gateway_support import settings
from tests.support import FakeClock, LocalServer

BASE = "http://gateway.test"
FAST = {
    "device_rate_per_minute": 10**6,
    "customer_rate_per_minute": 10**6,
    "auth_attempts_per_minute": 10**4,
}
CONTRACT = load("gateway.openapi.yaml")
DOCUMENTED_HOST = "http://127.0.0.1:8080"  # the contract's server


def _as_documented(request: httpx.Request) -> httpx.Request:
    """The same request addressed to the contract's server (tests use other hosts)."""
    url = DOCUMENTED_HOST + request.url.raw_path.decode()
    return httpx.Request(request.method, url, headers=request.headers, content=request.content)


def check_request(request: httpx.Request) -> None:
    CONTRACT.validate_request(_as_documented(request))


def check_response(response: httpx.Response) -> None:
    response.read()
    CONTRACT.validate_response(_as_documented(response.request), response)


async def acheck_request(request: httpx.Request) -> None:
    check_request(request)


async def acheck_response(response: httpx.Response) -> None:
    await response.aread()
    CONTRACT.validate_response(_as_documented(response.request), response)


def checked(**kwargs: Any) -> httpx.Client:
    """An httpx client whose every request and answer is checked against the contract."""
    hooks: dict[str, list[Callable[..., Any]]] = {
        "request": [check_request],
        "response": [check_response],
    }
    return httpx.Client(event_hooks=hooks, **kwargs)


def achecked(**kwargs: Any) -> httpx.AsyncClient:
    hooks: dict[str, list[Callable[..., Any]]] = {
        "request": [acheck_request],
        "response": [acheck_response],
    }
    return httpx.AsyncClient(event_hooks=hooks, **kwargs)


def in_process(app: Starlette) -> httpx.AsyncClient:
    """The app in-process behind a contract-checked async client (start its lifespan apart)."""
    return achecked(transport=httpx.ASGITransport(app=app), base_url=BASE)


@pytest.fixture
def contract() -> Contract:
    return CONTRACT


@pytest.fixture
def app(tmp_path: Path) -> Starlette:
    return create_app(settings(tmp_path, **FAST))


def _checked_test_client(app: Starlette) -> TestClient:
    client = TestClient(app, base_url=BASE)
    client.event_hooks = {"request": [check_request], "response": [check_response]}
    return client


@pytest.fixture
def http(app: Starlette) -> Iterator[TestClient]:
    """The app in-process behind a sync httpx client (lifespan running), contract-checked."""
    with _checked_test_client(app) as client:
        yield client


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def clocked(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[Starlette, TestClient]]:
    """The app on the fake ``clock`` (its claims and tokens expire on it), in-process."""
    application = create_app(settings(tmp_path, **FAST), clock=clock.time)
    with _checked_test_client(application) as client:
        yield application, client


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalServer, Starlette]]:
    """The gateway under uvicorn on 127.0.0.1, over a real socket."""
    configured = settings(tmp_path_factory.mktemp("live"), **FAST)
    application = create_app(configured)
    server = LocalServer(application, lifespan="on", **socket_options(configured))
    server.start()
    yield server, application
    server.stop()
