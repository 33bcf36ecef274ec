"""test_schemathesis.py's fuzzing of contracts/gateway.openapi.yaml, on a
PostgreSQL database made for it (dropped when the tests end): what PostgreSQL
stores differently (text without NUL, 32-bit integers, stricter types) must be
refused with the documented errors there too, never a 500. A quarter of the
examples (at least 10), to keep CI's time: GATEWAY_FUZZ_EXAMPLES sets both."""

from __future__ import annotations

import pytest

from tests.gateway_server.gateway_fuzz import EXAMPLES, contract_tests
from tests.gateway_support import lasting_postgres_database, postgres_missing

pytestmark = pytest.mark.one_backend(
    "it fuzzes an app of its own on PostgreSQL", backend="postgresql"
)

if (reason := postgres_missing()) is not None:
    pytest.skip(reason, allow_module_level=True)

test_api_conforms_to_its_contract_on_postgres, test_probes_conform_on_postgres = contract_tests(
    lasting_postgres_database(), max(EXAMPLES // 4, 10)
)
