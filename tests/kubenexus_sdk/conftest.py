from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import respx

from kubenexus_sdk import AsyncKubeNexusClient, KubeNexusClient
from tests.contract import Contract, load
from tests.kubenexus_sdk.fake_kubenexus import BASE, HOST, PASSWORD, USERNAME, FakeKubeNexus
from tests.support import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def contract() -> Contract:
    return load("kubenexus.openapi.yaml")


@pytest.fixture
def platform(clock: FakeClock) -> FakeKubeNexus:
    return FakeKubeNexus(clock, clusters=45)


@pytest.fixture
def routes(platform: FakeKubeNexus, contract: Contract) -> Iterator[respx.Router]:
    with respx.mock(assert_all_called=False) as router:
        router.route(host=HOST).mock(side_effect=contract.check(platform.handle))
        yield router


def make_client(clock: FakeClock, **kw: Any) -> KubeNexusClient:
    kw.setdefault("rand", lambda: 1.0)
    if "api_key" not in kw:
        kw.setdefault("username", USERNAME)
        kw.setdefault("password", PASSWORD)
    return KubeNexusClient(BASE, clock=clock, sleep=clock.sleep, **kw)


def make_async_client(clock: FakeClock, **kw: Any) -> AsyncKubeNexusClient:
    kw.setdefault("rand", lambda: 1.0)
    if "api_key" not in kw:
        kw.setdefault("username", USERNAME)
        kw.setdefault("password", PASSWORD)
    return AsyncKubeNexusClient(BASE, clock=clock, sleep=clock.async_sleep, **kw)


@pytest.fixture
def client(clock: FakeClock, routes: respx.Router) -> Iterator[KubeNexusClient]:
    with make_client(clock) as c:
        yield c
