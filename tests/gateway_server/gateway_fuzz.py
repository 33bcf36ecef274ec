"""The fuzzing of contracts/gateway.openapi.yaml by schemathesis, built for one
database (test_schemathesis.py: SQLite; test_schemathesis_postgres.py)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import negative_data_rejection
from schemathesis.config import SchemathesisConfig
from schemathesis.python import asgi
from schemathesis.schemas import BaseSchema

from gateway_server import Settings, create_app

__all__ = ["EXAMPLES", "contract_tests", "fuzzing"]

EXAMPLES = int(os.environ.get("GATEWAY_FUZZ_EXAMPLES", "60"))

# A refusal of negative data may also be 413: a string over its maxLength can
# make the body larger than the server reads at all (documented under 4XX).
# 5xx stays listed as schemathesis lists it: not_a_server_error fails those.
REFUSALS = [*map(str, (400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429)), "5xx"]
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": REFUSALS}}}
)
PUBLIC = ["/healthz", "/readyz", "/version"]


def fuzzing(schema: BaseSchema, examples: int) -> settings:
    """What both contracts' fuzzing shares: ``schema``'s query filter, and the
    hypothesis settings for ``examples`` examples an operation."""

    @schema.hook
    def filter_query(ctx: Any, query: dict[str, Any] | None) -> bool:
        # An extra query parameter whose value is an empty list is never sent (it
        # serializes to nothing), yet schemathesis counts the case as carrying an
        # unknown parameter and expects a refusal: skip such cases.
        return not query or all(value != [] for value in query.values())

    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=os.environ.get("GATEWAY_FUZZ_RANDOM") != "1",
    )


def contract_tests(
    database_url: str | None, examples: int
) -> tuple[Callable[[Any], None], Callable[[Any], None]]:
    """The module's two tests, fuzzing an app of their own on ``database_url``
    (None: SQLite in a new directory) with ``examples`` examples per operation."""
    app = create_app(
        Settings(
            data_dir=Path(tempfile.mkdtemp(prefix="gateway-fuzz-")),
            database_url=database_url,
            jwt_secret="fuzz-secret-" + "x" * 32,
            device_rate_per_minute=10**9,
            customer_rate_per_minute=10**9,
            auth_attempts_per_minute=10**9,
            grpc_enabled=False,
        )
    )
    # schemathesis starts the app (its lifespan) once, and keeps it running; an app
    # runs once at a time, so every request of the module goes through its client.
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)
    client = asgi.get_client(cast(Any, app)).__enter__()  # its ASGI types are narrower

    # A customer token, and a registered device's session token, made through the API.
    token = app.device_gateway.verifier.mint("fuzz-customer", ttl=24 * 3600)
    bearer = {"Authorization": f"Bearer {token}"}
    code = client.post(
        "/api/v1/customer/devices/provision", json={"deviceId": "fuzz-device"}, headers=bearer
    ).json()
    secret = client.post(
        "/api/v1/device/register",
        json={"deviceId": "fuzz-device", "activationCode": code["device"]["activationCode"]},
    ).json()["deviceSecret"]
    device_token = client.post(
        "/api/v1/device/auth", json={"deviceId": "fuzz-device", "deviceSecret": secret}
    ).json()["token"]
    session = client.post(
        "/api/v1/customer/sessions",
        json={"deviceId": "fuzz-device", "type": "diagnostic"},
        headers=bearer,
    )
    assert session.status_code == 201
    headers = {**bearer, "X-Device-Token": device_token}

    @schema.auth()
    class Credentials:
        """Valid credentials on every case, except where the case itself removed
        one to test its absence (schemathesis skips the provider for those), so
        that a request refused for missing credentials is not sent with them."""

        def get(self, case: Any, ctx: Any) -> dict[str, str]:
            return headers

        def set(self, case: Any, data: dict[str, str], ctx: Any) -> None:
            case.headers = {**(case.headers or {}), **data}

    fuzz = fuzzing(schema, examples)

    @schema.exclude(path=PUBLIC).parametrize()
    @fuzz
    def test_api_conforms_to_its_contract(case: Any) -> None:
        case.call_and_validate()

    @schema.include(path=PUBLIC).parametrize()
    @fuzz
    def test_probes_conform_and_never_fail(case: Any) -> None:
        # Load balancers' probes: stray query parameters are ignored, not refused.
        case.call_and_validate(excluded_checks=[negative_data_rejection])

    return test_api_conforms_to_its_contract, test_probes_conform_and_never_fail
