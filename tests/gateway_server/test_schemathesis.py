"""Schemathesis against the in-process app: every operation of
contracts/gateway.openapi.yaml, positive and negative data, with valid device
and customer credentials so the fuzzing reaches past authentication (except on
the cases that leave one out on purpose, which must be refused).

Bounded: GATEWAY_FUZZ_EXAMPLES examples per operation (default 60), the same
examples on every run; GATEWAY_FUZZ_RANDOM=1 draws new ones each run, for a
deeper search by hand:

    GATEWAY_FUZZ_EXAMPLES=500 GATEWAY_FUZZ_RANDOM=1 pytest tests/gateway_server/test_schemathesis.py
Zero failures allowed: no 5xx, every status, header and body as documented,
schema-violating requests refused and schema-conforming ones not.
"""

from __future__ import annotations

import pytest

from tests.gateway_server.gateway_fuzz import EXAMPLES, contract_tests

pytestmark = pytest.mark.one_backend(
    "it fuzzes an app of its own on SQLite; test_schemathesis_postgres.py, one on PostgreSQL"
)

test_api_conforms_to_its_contract, test_probes_conform_and_never_fail = contract_tests(
    None, EXAMPLES
)
