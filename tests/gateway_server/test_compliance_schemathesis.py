"""Schemathesis against the in-process app: every operation of
contracts/compliance.openapi.yaml, positive and negative data, with an
admin's session so that the fuzzing reaches past authentication (except on
the cases that leave it out on purpose, which must be refused).

Bounded: COMPLIANCE_FUZZ_EXAMPLES examples per operation (default 25), the
same examples on every run; GATEWAY_FUZZ_RANDOM=1 draws new ones each run:

    COMPLIANCE_FUZZ_EXAMPLES=300 GATEWAY_FUZZ_RANDOM=1 pytest tests/gateway_server/test_compliance_schemathesis.py

Zero failures allowed: no 5xx, every status, header and body as documented,
schema-violating requests refused and schema-conforming ones not.
"""

from __future__ import annotations

import pytest

from tests.gateway_server.compliance_fuzz import EXAMPLES, contract_tests

pytestmark = pytest.mark.one_backend(
    "it fuzzes an app of its own on SQLite; test_compliance_schemathesis_postgres.py, one on "
    "PostgreSQL"
)

test_the_compliance_api_conforms_to_its_contract, test_the_fuzzing_was_authenticated = (
    contract_tests(None, EXAMPLES)
)
