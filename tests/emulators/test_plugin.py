"""The pytest plugin installed with gateway_server: its fixtures work in a
user's own test suite (run here in a fresh pytest process), and in ours."""

from __future__ import annotations

import pytest

from gateway_sdk import AsyncCustomerClient, AsyncDeviceClient, CustomerClient, DeviceClient
from gateway_server.testing import LocalGateway, RegisteredDevice

pytest_plugins = ["pytester"]

USERS_TEST = """
import pytest

def test_search(exasperation_client):
    assert exasperation_client.search("password reset").sources

def test_nql(nexthink_client):
    assert nexthink_client.nql.execute_v2("#crashes", {"days": 7}).rows == 2

def test_clusters(kubenexus_client):
    assert kubenexus_client.clusters.get(1).name == "prod-01"

def test_device(gateway_device_client, gateway_customer_client, gateway_device):
    assert gateway_device_client.heartbeat().success
    assert gateway_customer_client.devices.status(gateway_device.device_id).id == gateway_device.device_id

@pytest.mark.emulator_fault("/emulators/nexthink/api/v2/nql/execute", "status", status=501)
def test_fault(nexthink_client):
    with pytest.raises(Exception, match="501"):
        nexthink_client.nql.execute_v2("#crashes")
"""


def test_a_users_suite_gets_the_fixtures_from_the_installed_plugin(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_users=USERS_TEST)
    result = pytester.runpytest_subprocess(
        "-q", "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning"
    )
    result.assert_outcomes(passed=5)


def test_the_device_fixtures(
    gateway_device: RegisteredDevice,
    gateway_device_client: DeviceClient,
    gateway_customer_client: CustomerClient,
) -> None:
    assert gateway_device_client.heartbeat().success
    ids = [d.id for d in gateway_customer_client.devices.list()]
    assert gateway_device.device_id in ids
    assert "secret" not in repr(gateway_device)


async def test_the_async_gateway_fixtures(
    async_gateway_device_client: AsyncDeviceClient,
    async_gateway_customer_client: AsyncCustomerClient,
) -> None:
    assert (await async_gateway_device_client.heartbeat()).success
    device = await async_gateway_customer_client.devices.status(
        async_gateway_device_client.device_id
    )
    assert device.id == async_gateway_device_client.device_id


def test_the_control_endpoint_lists_and_clears_faults(gateway_server: LocalGateway) -> None:
    control = gateway_server.faults
    control.arm("/emulators/kubenexus/api/*", "slow", count=3, method="get", delay=0.1)
    armed = control.armed()
    assert [(f["route"], f["kind"], f["remaining"], f["method"]) for f in armed] == [
        ("/emulators/kubenexus/api/*", "slow", 3, "GET")
    ]
    control.clear()
    assert control.armed() == []
    import httpx

    refused = httpx.post(control.url, json={"route": "no-slash", "kind": "boom"})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "VALIDATION_ERROR"
