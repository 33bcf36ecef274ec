"""The fuzzing of contracts/compliance.openapi.yaml by schemathesis, built for
one database (test_compliance_schemathesis.py: SQLite;
test_compliance_schemathesis_postgres.py)."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.python import asgi

from gateway_server import _cli, create_app
from tests.compliance_support import PASSWORD
from tests.compliance_support import settings as compliance_settings
from tests.gateway_server.gateway_fuzz import fuzzing

__all__ = ["EXAMPLES", "contract_tests"]

EXAMPLES = int(os.environ.get("COMPLIANCE_FUZZ_EXAMPLES", "25"))

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


def contract_tests(
    database_url: str | None, examples: int
) -> tuple[Callable[[Any], None], Callable[[], None]]:
    """The module's two tests, fuzzing an app of their own on ``database_url``
    (None: SQLite in a new directory) with ``examples`` examples per operation."""
    app = create_app(
        compliance_settings(
            Path(tempfile.mkdtemp(prefix="compliance-fuzz-")),
            database_url=database_url,
            google_client_id="fuzz-client",
            azure_client_id="fuzz-client",
            okta_client_id="fuzz-client",
            compliance_login_failures_per_minute=10**6,
        )
    )
    # The admin, as `gateway-server create-user` makes one: before the app runs.
    asyncio.run(_cli._create_user(app.services.settings, "fuzz-admin", PASSWORD, "admin", "fuzz"))
    # schemathesis starts the app (its lifespan) once, and keeps it running; an app
    # runs once at a time, so every request of the module goes through its client.
    schema = schemathesis.openapi.from_asgi("/compliance/openapi.json", app, config=CONFIG)
    client = asgi.get_client(cast(Any, app)).__enter__()  # its ASGI types are narrower

    # An admin's session token, and a site for the fuzzing to find.
    login = client.post("/api/auth/login", json={"username": "fuzz-admin", "password": PASSWORD})
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    assert client.post("/api/sites", json={"name": "Fuzz"}, headers=headers).status_code == 201

    @schema.auth()
    class Credentials:
        """The admin's session on every case, except where the case itself left
        the credentials out to test their absence."""

        def get(self, case: Any, ctx: Any) -> dict[str, str]:
            return headers  # schemathesis caches this; set() decides per case

        def set(self, case: Any, data: dict[str, str], ctx: Any) -> None:
            if case.operation.definition.raw.get("security") == []:
                return  # login takes none
            if case.path == "/api/auth/logout":  # a session of its own to revoke
                login = client.post(
                    "/api/auth/login", json={"username": "fuzz-admin", "password": PASSWORD}
                )
                data = {"Authorization": f"Bearer {login.json()['token']}"}
            case.headers = {**(case.headers or {}), **data}

    fuzz = fuzzing(schema, examples)

    @schema.parametrize()
    @fuzz
    def test_the_compliance_api_conforms_to_its_contract(case: Any) -> None:
        case.call_and_validate()

    def test_the_fuzzing_was_authenticated() -> None:
        # Guard against a harness that silently fuzzes only the 401 path.
        r = client.get("/api/auth/me", headers=headers)
        assert r.status_code == 200, r.text

    return test_the_compliance_api_conforms_to_its_contract, test_the_fuzzing_was_authenticated
