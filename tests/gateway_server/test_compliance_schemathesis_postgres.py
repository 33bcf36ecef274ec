"""test_compliance_schemathesis.py's fuzzing of contracts/compliance.openapi.yaml,
on a PostgreSQL database made for it (dropped when the tests end). A fifth of
the examples (at least 5), to keep CI's time: COMPLIANCE_FUZZ_EXAMPLES sets both."""

from __future__ import annotations

import pytest

from tests.gateway_server.compliance_fuzz import EXAMPLES, contract_tests
from tests.gateway_support import lasting_postgres_database, postgres_missing

pytestmark = pytest.mark.one_backend(
    "it fuzzes an app of its own on PostgreSQL", backend="postgresql"
)

if (reason := postgres_missing()) is not None:
    pytest.skip(reason, allow_module_level=True)

(
    test_the_compliance_api_conforms_to_its_contract_on_postgres,
    test_the_fuzzing_on_postgres_was_authenticated,
) = contract_tests(lasting_postgres_database(), max(EXAMPLES // 5, 5))
