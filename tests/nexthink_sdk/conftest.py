from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import respx

from nexthink_sdk import AsyncNexthinkClient, NexthinkClient
from tests.contract import Contract, load
from tests.nexthink_sdk.fake_nexthink import (
    API_HOST,
    CLIENT_ID,
    CLIENT_SECRET,
    LOGIN_HOST,
    STORAGE_HOST,
    FakeNexthink,
)
from tests.support import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def contract() -> Contract:
    return load("nexthink.openapi.yaml")


@pytest.fixture
def nexthink(clock: FakeClock) -> FakeNexthink:
    return FakeNexthink(clock)


@pytest.fixture
def routes(nexthink: FakeNexthink, contract: Contract) -> Iterator[respx.Router]:
    """Nexthink's API and login hosts (contract-checked) and an object-storage host."""
    with respx.mock(assert_all_called=False) as router:
        router.route(host=LOGIN_HOST).mock(side_effect=contract.check(nexthink.token))
        router.route(host=API_HOST).mock(side_effect=contract.check(nexthink.api))
        router.route(host=STORAGE_HOST).mock(side_effect=nexthink.storage)
        yield router


def make_client(clock: FakeClock, **kw: Any) -> NexthinkClient:
    kw.setdefault("rand", lambda: 1.0)
    return NexthinkClient(
        "acme",
        "eu",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        clock=clock,
        sleep=clock.sleep,
        **kw,
    )


def make_async_client(clock: FakeClock, **kw: Any) -> AsyncNexthinkClient:
    kw.setdefault("rand", lambda: 1.0)
    return AsyncNexthinkClient(
        "acme",
        "eu",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        clock=clock,
        sleep=clock.async_sleep,
        **kw,
    )


@pytest.fixture
def client(clock: FakeClock, routes: respx.Router) -> Iterator[NexthinkClient]:
    with make_client(clock) as c:
        yield c
