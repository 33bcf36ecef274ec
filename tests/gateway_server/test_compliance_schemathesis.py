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

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any, cast

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.python import asgi

from gateway_server import _cli, create_app
from tests.compliance_support import PASSWORD
from tests.compliance_support import settings as compliance_settings

pytestmark = pytest.mark.one_backend(
    "its app is built once at import, on SQLite; the fuzzing of the edge does not depend on the database"
)

EXAMPLES = int(os.environ.get("COMPLIANCE_FUZZ_EXAMPLES", "25"))

app = create_app(
    compliance_settings(
        Path(tempfile.mkdtemp(prefix="compliance-fuzz-")),
        google_client_id="fuzz-client",
        azure_client_id="fuzz-client",
        okta_client_id="fuzz-client",
        compliance_login_failures_per_minute=10**6,
    )
)


REFUSALS = [*map(str, (400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 429)), "5xx"]
# A valid callback still needs a state the server issued (400
# OAUTH_STATE_INVALID answers the states fuzzing makes up) and one of code or
# error (422 without either): both rules are in the operation's description,
# beyond what its schema can say.
CALLBACK = {
    "include-operation-id": "oauthCallback",
    "checks": {"positive_data_acceptance": {"expected-statuses": ["200", "400", "422"]}},
}
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {"negative_data_rejection": {"expected-statuses": REFUSALS}},
        "operations": [CALLBACK],
    }
)
# The admin, as `gateway-server create-user` makes one: before the app runs.
asyncio.run(_cli._create_user(app.services.settings, "fuzz-admin", PASSWORD, "admin", "fuzz"))
# schemathesis starts the app (its lifespan) once, and keeps it running; an app
# runs once at a time, so every request of this module goes through its client.
schema = schemathesis.openapi.from_asgi("/compliance/openapi.json", app, config=CONFIG)
_client = asgi.get_client(cast(Any, app)).__enter__()  # its ASGI types are narrower


def _credentials() -> dict[str, str]:
    """An admin's session token, and a site for the fuzzing to find."""
    client = _client
    login = client.post("/api/auth/login", json={"username": "fuzz-admin", "password": PASSWORD})
    assert login.status_code == 200, login.text
    bearer = {"Authorization": f"Bearer {login.json()['token']}"}
    assert client.post("/api/sites", json={"name": "Fuzz"}, headers=bearer).status_code == 201
    return bearer


HEADERS: dict[str, Any] = _credentials()


@schema.auth()
class Credentials:
    """The admin's session on every case, except where the case itself left
    the credentials out to test their absence."""

    def get(self, case: Any, ctx: Any) -> dict[str, str]:
        return HEADERS  # schemathesis caches this; set() decides per case

    def set(self, case: Any, data: dict[str, str], ctx: Any) -> None:
        if case.operation.definition.raw.get("security") == []:
            return  # login takes none
        if case.path == "/api/auth/logout":  # a session of its own to revoke
            login = _client.post(
                "/api/auth/login", json={"username": "fuzz-admin", "password": PASSWORD}
            )
            data = {"Authorization": f"Bearer {login.json()['token']}"}
        case.headers = {**(case.headers or {}), **data}


@schema.hook
def filter_query(ctx: Any, query: dict[str, Any] | None) -> bool:
    # An extra query parameter whose value is an empty list is never sent.
    return not query or all(value != [] for value in query.values())


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=os.environ.get("GATEWAY_FUZZ_RANDOM") != "1",
)


@schema.parametrize()
@FUZZ
def test_the_compliance_api_conforms_to_its_contract(case: Any) -> None:
    case.call_and_validate()


def test_the_fuzzing_was_authenticated() -> None:
    # Guard against a harness that silently fuzzes only the 401 path.
    r = _client.get("/api/auth/me", headers=HEADERS)
    assert r.status_code == 200, r.text
