"""The pytest plugin installed with gateway_server: its fixtures work in a
user's own test suite (run here in a fresh pytest process), and in ours."""

from __future__ import annotations

import pytest

from compliance_sdk import AsyncComplianceClient, ComplianceClient
from gateway_sdk import AsyncCustomerClient, AsyncDeviceClient, CustomerClient, DeviceClient
from gateway_server.testing import ComplianceUser, LocalGateway, RegisteredDevice
from sdk_core import PermissionDeniedError

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

def test_compliance(compliance_client):
    site = compliance_client.sites.create(name="Clinic")
    assert compliance_client.sites.get(site.id).name == "Clinic"

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
    result.assert_outcomes(passed=6)


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


def test_the_compliance_fixtures(
    gateway_server: LocalGateway,
    compliance_client: ComplianceClient,
    compliance_user: ComplianceUser,
) -> None:
    site = compliance_client.sites.create(name="Kit clinic")
    assert site.id in [s.id for s in compliance_client.sites.list()]
    assert compliance_client.me().user.role == compliance_user.role == "admin"
    assert compliance_user.password not in repr(compliance_user)
    # one user per role, made once: a viewer of the same partner reads, and may not write
    viewer = gateway_server.compliance_user("viewer")
    assert gateway_server.compliance_user("viewer") is viewer
    with ComplianceClient(
        gateway_server.url, username=viewer.username, password=viewer.password
    ) as client:
        assert client.sites.get(site.id).name == "Kit clinic"
        with pytest.raises(PermissionDeniedError):
            client.sites.create(name="Not mine to make")


async def test_the_async_compliance_fixture(
    async_compliance_client: AsyncComplianceClient, compliance_client: ComplianceClient
) -> None:
    site = await async_compliance_client.sites.create(name="Async clinic")
    assert compliance_client.sites.get(site.id).name == "Async clinic"


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
