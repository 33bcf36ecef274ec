"""The compliance clients' raw responses, pages and per-call options are typed
for real: mypy catches a typo behind ``with_raw_response`` or in a page's
items, a wrong option, and an ``idempotency_key`` (the platform honours none)."""

from __future__ import annotations

from pathlib import Path

from tests.support import mypy_errors

SNIPPET = """
from compliance_sdk import AsyncComplianceClient, ComplianceClient

client = ComplianceClient("http://127.0.0.1:8080", token="t")
print(client.incidents.with_raw_response.get("i").parse().drfit)
page = client.with_raw_response.sites.list(limit=3).parse()
print(page.items[0].nmae)
client.incidents.list(severity="urgent")
client.sites.get("s", timeout="5")
client.escalations.create(site_id="s", subject="s", message="m", idempotency_key="k")


async def main() -> None:
    aclient = AsyncComplianceClient("http://127.0.0.1:8080", token="t")
    apage = await aclient.fleet.agents("s")
    print(apage.items[0].hostnme)
"""


def test_mypy_sees_through_raw_responses_pages_and_per_call_options(tmp_path: Path) -> None:
    errors, output = mypy_errors(SNIPPET, tmp_path)
    assert errors == [
        '"IncidentDetail" has no attribute "drfit"; maybe "drift"?  [attr-defined]',
        '"Site" has no attribute "nmae"  [attr-defined]',
        'Argument "severity" to "list" of "Incidents" has incompatible type "Literal[\'urgent\']"; '
        "expected \"Literal['critical', 'high', 'medium', 'low'] | NotGiven | None\"  "
        "[arg-type]",
        'Argument "timeout" to "get" of "Sites" has incompatible type "str"; '
        'expected "Timeout | float | None"  [arg-type]',
        'Unexpected keyword argument "idempotency_key" for "create" of "Escalations"  [call-arg]',
        '"Agent" has no attribute "hostnme"; maybe "hostname"?  [attr-defined]',
    ], output
