"""Schemathesis against each vendor emulator, in-process, from the vendor's
contract: with valid credentials, generated requests never get a 5xx, and
every answer's status, headers and body are as the contract documents them.

Bounded: EMULATOR_FUZZ_EXAMPLES examples per operation (default 10), the same
ones every run; EMULATOR_FUZZ_RANDOM=1 draws new ones, for a deeper search by hand.
(Refusing every schema-violating request is left to the gateway's own fuzzing:
the emulators refuse what the vendors document refusing.)
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from pathlib import Path
from typing import Any, cast

import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from schemathesis.checks import negative_data_rejection, positive_data_acceptance
from schemathesis.python import asgi
from schemathesis.specs.openapi.schemas import OpenApiSchema
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from gateway_server import Settings, create_app
from gateway_server.emulators import load_seed
from tests.contract import CONTRACTS

EXAMPLES = int(os.environ.get("EMULATOR_FUZZ_EXAMPLES", "10"))

_data = Path(tempfile.mkdtemp(prefix="emulator-fuzz-"))
_seed = load_seed(None)
_seed["exasperation"] |= {"requests_per_minute": 10**9, "max_in_flight": 10**6}
_seed["kubenexus"]["requests_per_minute"] = 10**9
(_data / "seed.json").write_text(json.dumps(_seed))
gateway = create_app(
    Settings(
        data_dir=_data,
        jwt_secret="fuzz-secret-" + "x" * 32,
        emulate="all",
        emulator_data=str(_data / "seed.json"),
        nexthink_rate_per_minute=10**9,
        grpc_enabled=False,
    )
)


def _contract(vendor: str) -> dict[str, Any]:
    """The vendor's contract, with every server at the emulator's prefix."""
    raw: dict[str, Any] = yaml.safe_load((CONTRACTS / f"{vendor}.openapi.yaml").read_text())
    raw = copy.deepcopy(raw)
    base = f"/emulators/{vendor}" + ("/v1" if vendor == "exasperation" else "")
    raw["servers"] = [{"url": base}]
    for item in raw["paths"].values():
        item.pop("servers", None)
    return raw


CONTRACT_PATHS = {
    f"/fuzz/{v}.json": _contract(v) for v in ("nexthink", "kubenexus", "exasperation")
}


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """The server, and each vendor's contract at ``/fuzz/<vendor>.json``."""
    if scope["type"] == "http" and scope["path"] in CONTRACT_PATHS:
        await JSONResponse(CONTRACT_PATHS[scope["path"]])(scope, receive, send)
        return
    await gateway(scope, receive, send)


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=os.environ.get("EMULATOR_FUZZ_RANDOM") != "1",
)
LENIENT = [negative_data_rejection, positive_data_acceptance]


def _schema(vendor: str) -> OpenApiSchema:
    schema = schemathesis.openapi.from_asgi(f"/fuzz/{vendor}.json", app)

    @schema.auth()
    class Credentials:
        def get(self, case: Any, ctx: Any) -> dict[str, str]:
            return HEADERS[vendor]

        def set(self, case: Any, data: dict[str, str], ctx: Any) -> None:
            case.headers = {**(case.headers or {}), **data}

    return schema


nexthink = _schema("nexthink")
kubenexus = _schema("kubenexus")
exasperation = _schema("exasperation")
# schemathesis starts the app (its lifespan) once and keeps it running; an app
# runs once at a time, so this module's own requests go through its client too.
_client = asgi.get_client(cast(Any, app)).__enter__()  # its ASGI types are narrower
_token = _client.post(
    "/emulators/nexthink/oauth2/default/v1/token",
    data={"grant_type": "client_credentials"},
    auth=("nx-demo-client", "nx-demo-secret"),
).json()["access_token"]
HEADERS = {
    "nexthink": {"Authorization": f"Bearer {_token}"},
    "kubenexus": {"X-API-Key": "kn-admin-api-key"},
    "exasperation": {"Authorization": "Bearer exa-demo-key"},
}


@nexthink.exclude(path="/oauth2/default/v1/token").parametrize()
@FUZZ
def test_nexthink_emulator_keeps_its_contract(case: Any) -> None:
    case.call_and_validate(excluded_checks=LENIENT)


@kubenexus.exclude(path_regex="^/auth/(logout|change-password)$").parametrize()
@FUZZ
def test_kubenexus_emulator_keeps_its_contract(case: Any) -> None:
    case.call_and_validate(excluded_checks=LENIENT)


@exasperation.parametrize()
@FUZZ
def test_exasperation_emulator_keeps_its_contract(case: Any) -> None:
    case.call_and_validate(excluded_checks=LENIENT)
