"""Typed raw responses and per-call options are typed for real: mypy catches a
typo behind ``with_raw_response`` and a wrong option (it saw ``Any`` before)."""

from __future__ import annotations

from pathlib import Path

from tests.support import mypy_errors

SNIPPET = """
from kubenexus_sdk import KubeNexusClient

client = KubeNexusClient("https://kn.test", api_key="k")
raw = client.clusters.with_raw_response.get(7)
print(raw.parse().nmae)
page = client.clusters.with_raw_response.list(limit=3).parse()
print(page.items[0].regoin)
client.clusters.get(7, timeout="5")
client.clusters.get(7, idempotency_key="k")
client.clusters.create(name="a", cluster_type="eks", idempotency_key="k")
"""


def test_mypy_sees_through_raw_responses_and_per_call_options(tmp_path: Path) -> None:
    errors, output = mypy_errors(SNIPPET, tmp_path)
    assert errors == [
        '"Cluster" has no attribute "nmae"  [attr-defined]',
        '"Cluster" has no attribute "regoin"; maybe "region"?  [attr-defined]',
        'Argument "timeout" to "get" of "Clusters" has incompatible type "str"; '
        'expected "Timeout | float | None"  [arg-type]',
        'Unexpected keyword argument "idempotency_key" for "get" of "Clusters"  [call-arg]',
    ], output
