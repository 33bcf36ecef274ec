"""The gateway clients' raw responses and per-call options are typed for real:
mypy catches a typo behind ``with_raw_response``, a wrong option, and an
``idempotency_key`` (the gateway does not honour one)."""

from __future__ import annotations

from pathlib import Path

from tests.support import mypy_errors

SNIPPET = """
from gateway_sdk import AsyncCustomerClient, CustomerClient, DeviceClient

portal = CustomerClient("http://gw.test", "eyJ.token.sig")
print(portal.sessions.with_raw_response.get("s-1").parse().devcie_id)
page = portal.with_raw_response.devices.list(page_size=3).parse()
print(page.items[0].lastseen)
device = DeviceClient("http://gw.test", "dev-001", "s3cret")
device.with_raw_response.claim(timeout="5")
device.claim(idempotency_key="k")
portal.sessions.enqueue("s-1", "ping", idempotency_key="k")


async def main() -> None:
    apage = await AsyncCustomerClient("http://gw.test", "t").devices.list()
    print(apage.items[0].nmae)
"""


def test_mypy_sees_through_raw_responses_and_per_call_options(tmp_path: Path) -> None:
    errors, output = mypy_errors(SNIPPET, tmp_path)
    assert errors == [
        '"Session" has no attribute "devcie_id"; maybe "device_id"?  [attr-defined]',
        '"Device" has no attribute "lastseen"; maybe "last_seen"?  [attr-defined]',
        'Argument "timeout" has incompatible type "str"; expected "Timeout | float | None"  '
        "[arg-type]",
        'Unexpected keyword argument "idempotency_key" for "claim" of "DeviceClient"  [call-arg]',
        'Unexpected keyword argument "idempotency_key" for "enqueue" of "Sessions"  [call-arg]',
        '"Device" has no attribute "nmae"  [attr-defined]',
    ], output
