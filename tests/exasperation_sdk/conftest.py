from __future__ import annotations

from collections.abc import Iterator

import pytest
import respx

from tests.contract import Contract, load
from tests.exasperation_sdk.fake_service import FakeExasperation
from tests.support import FakeClock

HOST = "api.exasperation.example.com"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def contract() -> Contract:
    return load("exasperation.openapi.yaml")


@pytest.fixture
def service(clock: FakeClock) -> FakeExasperation:
    return FakeExasperation(clock)


@pytest.fixture
def api(service: FakeExasperation, contract: Contract) -> Iterator[respx.Router]:
    """The fake service behind the documented base URL, every exchange checked
    against contracts/exasperation.openapi.yaml."""
    with respx.mock(assert_all_called=False) as router:
        router.route(host=HOST).mock(side_effect=contract.check(service.handle))
        yield router


@pytest.fixture
def async_api(service: FakeExasperation, contract: Contract) -> Iterator[respx.Router]:
    with respx.mock(assert_all_called=False) as router:
        router.route(host=HOST).mock(side_effect=contract.acheck(service.ahandle))
        yield router
