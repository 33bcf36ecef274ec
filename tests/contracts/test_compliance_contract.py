"""contracts/compliance.openapi.yaml: a valid OpenAPI 3.1 document that keeps the rules
it states (and docs/compliance.md explains), so that the server and the client written
against it (issue 18) inherit them: every operation refuses without a session in the
documented error format, says who may call it, lists in the one envelope, takes UUID
ids and RFC 3339 timestamps, refuses unknown body fields; its examples are true."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from openapi_core.exceptions import OpenAPIError
from openapi_schema_validator import OAS31Validator, oas31_format_checker
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from tests.contract import load

ROOT = Path(__file__).resolve().parents[2]
PATH = ROOT / "contracts" / "compliance.openapi.yaml"
METHODS = ("get", "put", "post", "delete", "patch")
ROLES = {"admin", "operator", "viewer"}
ERROR = "#/components/schemas/Error"
VALIDATION_ERROR = "#/components/schemas/ValidationError"
BASE = "http://127.0.0.1:8080"
BEARER = {"Authorization": "Bearer " + "t" * 43}
SITE = "0b7f6a52-3a0e-4a51-9d2c-1f8e7c6b5a49"


@cache
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(PATH.read_text())
    return loaded


def resolve(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def operations() -> Iterator[tuple[str, str, dict[str, Any], list[dict[str, Any]]]]:
    """(method, path, operation, parameters with the path item's)."""
    for path, item in spec()["paths"].items():
        for method in METHODS:
            if method in item:
                op = item[method]
                params = [
                    resolve(p) for p in [*item.get("parameters", []), *op.get("parameters", [])]
                ]
                yield method, path, op, params


def ids() -> list[str]:
    return [f"{m.upper()} {p}" for m, p, _, _ in operations()]


OPERATIONS = list(operations())


def json_schema(response: dict[str, Any]) -> Any:
    content = resolve(response).get("content", {})
    return content.get("application/json", {}).get("schema")


def test_the_document_is_valid_openapi_3_1() -> None:
    validate(spec())
    assert spec()["openapi"].startswith("3.1")


def test_no_value_was_lost_to_yaml_flow_syntax() -> None:
    """`{description: a, b}` parses as a key `b` with a null value: none of those."""

    def nulls(node: Any, where: str) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("examples", "default", "const", "enum"):
                    continue
                if value is None:
                    yield f"{where}/{key}"
                yield from nulls(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from nulls(value, f"{where}/{i}")

    assert list(nulls(spec(), "#")) == []


def test_the_suites_contract_checker_loads_it() -> None:
    contract = load("compliance.openapi.yaml")
    request = httpx.Request("GET", f"{BASE}/api/incidents?limit=50", headers=BEARER)
    contract.validate_request(request)
    assert contract.requests_checked >= 1


def test_the_eight_routers_are_all_there() -> None:
    routers = {path.split("/")[2] for path in spec()["paths"]}
    assert routers == {
        "auth",
        "sites",
        "fleet",
        "incidents",
        "runbooks",
        "learning",
        "integrations",
        "escalation",
    }
    assert len({op["operationId"] for _, _, op, _ in OPERATIONS}) == len(OPERATIONS)


@pytest.mark.parametrize(("method", "path", "op", "params"), OPERATIONS, ids=ids())
def test_every_operation_answers_401_in_the_error_format(
    method: str, path: str, op: dict[str, Any], params: list[dict[str, Any]]
) -> None:
    assert json_schema(op["responses"]["401"]) == {"$ref": ERROR}


@pytest.mark.parametrize(("method", "path", "op", "params"), OPERATIONS, ids=ids())
def test_every_refusal_is_in_the_error_format(
    method: str, path: str, op: dict[str, Any], params: list[dict[str, Any]]
) -> None:
    for status, response in op["responses"].items():
        if status.startswith(("4", "5")):
            expected = VALIDATION_ERROR if status == "422" else ERROR
            assert json_schema(response) == {"$ref": expected}, status
    assert "4XX" in op["responses"]


def test_only_login_is_public() -> None:
    assert spec()["security"] == [{"sessionCookie": []}, {"bearerAuth": []}]
    schemes = spec()["components"]["securitySchemes"]
    assert schemes["sessionCookie"] == {**schemes["sessionCookie"], "in": "cookie"}
    assert schemes["sessionCookie"]["name"] == "session_token"
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    public = [op["operationId"] for _, _, op, _ in OPERATIONS if "security" in op]
    assert public == ["login"]
    assert spec()["paths"]["/api/auth/login"]["post"]["security"] == []


@pytest.mark.parametrize(("method", "path", "op", "params"), OPERATIONS, ids=ids())
def test_every_operation_says_who_may_call_it_and_viewers_only_read(
    method: str, path: str, op: dict[str, Any], params: list[dict[str, Any]]
) -> None:
    if op["operationId"] == "login":
        assert "x-roles" not in op
        return
    roles = set(op["x-roles"])
    assert roles
    assert roles <= ROLES
    writes = method != "get" or op["operationId"] == "oauthCallback"
    if op["operationId"] == "logout":
        assert roles == ROLES
    elif writes:
        assert "viewer" not in roles
    else:
        assert roles == ROLES, "every read is open to every role"
    if roles != ROLES:
        assert json_schema(op["responses"]["403"]) == {"$ref": ERROR}


def _is_list(op: dict[str, Any]) -> bool:
    ok = op["responses"].get("200")
    schema = resolve(json_schema(ok)) if ok else None
    return bool(schema and "items" in schema.get("properties", {}))


@pytest.mark.parametrize(("method", "path", "op", "params"), OPERATIONS, ids=ids())
def test_every_list_has_the_envelope_and_the_paging(
    method: str, path: str, op: dict[str, Any], params: list[dict[str, Any]]
) -> None:
    names = {p["name"] for p in params if p["in"] == "query"}
    if not _is_list(op):
        assert not {"limit", "offset"} & names
        return
    assert method == "get"
    envelope = resolve(json_schema(op["responses"]["200"]))
    fields = {"items", "total", "limit", "offset"}
    assert set(envelope["required"]) == fields
    assert set(envelope["properties"]) == fields
    assert envelope["additionalProperties"] is False
    assert envelope["properties"]["items"]["type"] == "array"
    by_name = {p["name"]: p["schema"] for p in params if p["in"] == "query"}
    assert by_name["limit"] == {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}
    assert by_name["offset"]["minimum"] == 0
    assert by_name["offset"]["default"] == 0


def test_incidents_take_the_documents_filters() -> None:
    params = {
        p["name"]: p
        for m, path, _, ps in OPERATIONS
        if (m, path) == ("get", "/api/incidents")
        for p in ps
    }
    assert {"site_id", "severity", "resolved", "limit", "offset"} <= set(params)
    assert params["resolved"]["schema"] == {"type": "boolean"}


@pytest.mark.parametrize(("method", "path", "op", "params"), OPERATIONS, ids=ids())
def test_statuses_of_creation_deletion_and_bad_input(
    method: str, path: str, op: dict[str, Any], params: list[dict[str, Any]]
) -> None:
    statuses = set(op["responses"])
    success = {s for s in statuses if s.startswith("2")}
    assert len(success) == 1
    if method == "delete":
        assert success == {"204"}
        assert "content" not in op["responses"]["204"]
    if "201" in success:
        assert method == "post"
    if "requestBody" in op or params:
        assert "422" in statuses
    if any(p["in"] == "path" for p in params):
        assert "404" in statuses


def _closed(schema: dict[str, Any], where: str) -> Iterator[str]:
    """Object schemas (also inside oneOf/items/properties) that allow unknown fields."""
    schema = resolve(schema)
    if "oneOf" in schema:
        for i, branch in enumerate(schema["oneOf"]):
            yield from _closed(branch, f"{where}/oneOf/{i}")
    if schema.get("type") == "object" and "properties" in schema:
        if schema.get("additionalProperties") is not False:
            yield where
        for name, prop in schema["properties"].items():
            yield from _closed(prop, f"{where}/{name}")
    if "items" in schema:
        yield from _closed(schema["items"], f"{where}/items")


@pytest.mark.parametrize(("method", "path", "op", "params"), OPERATIONS, ids=ids())
def test_request_bodies_refuse_unknown_fields(
    method: str, path: str, op: dict[str, Any], params: list[dict[str, Any]]
) -> None:
    if "requestBody" not in op:
        return
    body = op["requestBody"]["content"]
    assert list(body) == ["application/json"]
    assert list(_closed(body["application/json"]["schema"], "body")) == []


def test_every_response_object_is_closed_so_no_field_leaks_unnoticed() -> None:
    open_ = [
        f"{op['operationId']} {status}: {where}"
        for _, _, op, _ in OPERATIONS
        for status, response in op["responses"].items()
        if (schema := json_schema(response)) is not None
        for where in _closed(schema, "body")
    ]
    assert open_ == []


def _properties() -> Iterator[tuple[str, str, dict[str, Any]]]:
    def walk(schema: Any, where: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
        if not isinstance(schema, dict) or "$ref" in schema:
            return
        for name, prop in schema.get("properties", {}).items():
            yield f"{where}.{name}", name, prop
            yield from walk(prop, f"{where}.{name}")
        for key in ("items",):
            yield from walk(schema.get(key), f"{where}[]")
        for i, branch in enumerate(schema.get("oneOf", [])):
            yield from walk(branch, f"{where}|{i}")

    for name, schema in spec()["components"]["schemas"].items():
        yield from walk(schema, name)


NOT_UUIDS = {"external_id", "tenant_id"}  # AWS's and Entra's own identifiers


def test_ids_are_uuids_and_times_are_rfc3339() -> None:
    wrong = []
    for where, name, prop in _properties():
        target = resolve(prop)
        types = target.get("type")
        types = types if isinstance(types, list) else [types]
        if types == ["null"]:  # a field that is always null in this answer
            continue
        is_id = (name == "id" or name.endswith("_id")) and name not in NOT_UUIDS
        if is_id and (target.get("format") != "uuid" or "string" not in types):
            wrong.append(where)
        if (name.endswith("_at") or name == "last_checkin") and target.get("format") != "date-time":
            wrong.append(where)
    for _, _, _, params in OPERATIONS:
        for p in params:
            if p["name"].endswith("_id"):
                assert resolve(p["schema"]) == {"type": "string", "format": "uuid"}, p["name"]
    assert wrong == []


def _validator(schema_name: str) -> OAS31Validator:
    registry: Registry[Any] = Registry().with_resource(
        "urn:compliance", Resource.from_contents(spec(), default_specification=DRAFT202012)
    )
    return OAS31Validator(
        {"$ref": f"urn:compliance#/components/schemas/{schema_name}"},
        registry=registry,
        format_checker=oas31_format_checker,
    )


def _examples() -> list[tuple[str, Any]]:
    return [
        (name, example)
        for name, schema in spec()["components"]["schemas"].items()
        for example in schema.get("examples", [])
    ]


def test_the_main_schemas_have_examples() -> None:
    named = {name for name, _ in _examples()}
    assert {
        "Error",
        "ValidationError",
        "LoginResponse",
        "Site",
        "Agent",
        "FleetSiteOverview",
        "Incident",
        "IncidentDetail",
        "Runbook",
        "LearningCandidate",
        "Connector",
        "OAuthAuthorization",
        "EscalationNotification",
        "EnrollmentTokenCreated",
        "EscalationWebhookPayload",
    } <= named


@pytest.mark.parametrize(("name", "example"), _examples(), ids=[n for n, _ in _examples()])
def test_every_example_is_valid_against_its_schema(name: str, example: Any) -> None:
    errors = [e.message for e in _validator(name).iter_errors(example)]
    assert errors == []


def test_the_schemas_do_refuse() -> None:
    """The example checks above prove something only if the checker refuses bad data."""
    site = next(e for n, e in _examples() if n == "Site")
    assert _validator("Site").is_valid(site)
    assert not _validator("Site").is_valid({**site, "id": "not-a-uuid"})
    assert not _validator("Site").is_valid({**site, "created_at": "yesterday"})
    token = next(e for n, e in _examples() if n == "EnrollmentTokenCreated")
    assert not _validator("EnrollmentTokenCreated").is_valid({**token, "token": "short"})
    connector = next(e for n, e in _examples() if n == "Connector")
    assert not _validator("Connector").is_valid({**connector, "access_token": "ya29.x"})
    assert not _validator("Error").is_valid({"detail": "x", "status": "error", "code": "NOPE"})


def _codes_in(text: str) -> set[str]:
    return set(re.findall(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b", text))


def test_every_error_code_is_documented_and_every_code_mentioned_exists() -> None:
    code = spec()["components"]["schemas"]["ErrorCode"]
    enum = set(code["enum"])
    assert len(enum) == len(code["enum"])
    table = {row.split("|")[1].strip() for row in code["description"].splitlines()[2:] if row}
    assert table == enum
    mentioned = _codes_in(PATH.read_text()) - {"X_REQUEST_ID"}
    assert mentioned - enum == set()
    guide = (ROOT / "docs" / "compliance.md").read_text()
    assert enum - _codes_in(guide) == set(), "docs/compliance.md lists every error code"


# The contract as tests/contract.py applies it to the client's requests and the
# server's answers (issue 18's tests): what it lets through and what it stops.


def test_the_contract_bounds_incident_paging() -> None:
    contract = load("compliance.openapi.yaml")
    ok = f"{BASE}/api/incidents?site_id={SITE}&severity=high&resolved=false&limit=200&offset=0"
    contract.validate_request(httpx.Request("GET", ok, headers=BEARER))
    for bad in ("limit=201", "limit=0", "offset=-1", "severity=urgent", "site_id=12"):
        with pytest.raises(OpenAPIError):
            contract.validate_request(
                httpx.Request("GET", f"{BASE}/api/incidents?{bad}", headers=BEARER)
            )


def test_the_contract_refuses_unknown_and_oversized_site_fields() -> None:
    contract = load("compliance.openapi.yaml")
    url = f"{BASE}/api/sites"
    contract.validate_request(httpx.Request("POST", url, json={"name": "Clinic"}, headers=BEARER))
    for body in ({"name": "Clinic", "owner": "x"}, {"name": "x" * 256}, {"name": "   "}, {}):
        with pytest.raises(OpenAPIError):
            contract.validate_request(httpx.Request("POST", url, json=body, headers=BEARER))


def test_the_contract_refuses_a_request_without_credentials() -> None:
    contract = load("compliance.openapi.yaml")
    with pytest.raises(OpenAPIError):
        contract.validate_request(httpx.Request("GET", f"{BASE}/api/sites"))


def test_a_connector_answer_carrying_a_token_breaks_the_contract() -> None:
    contract = load("compliance.openapi.yaml")
    request = httpx.Request("GET", f"{BASE}/api/integrations/connectors/{SITE}", headers=BEARER)
    connector = next(e for n, e in _examples() if n == "Connector")
    contract.validate_response(request, httpx.Response(200, json=connector, request=request))
    leaky = {**connector, "refresh_token": "1//0g-secret"}
    with pytest.raises(OpenAPIError):
        contract.validate_response(request, httpx.Response(200, json=leaky, request=request))


def _draw(operation: Any, mode: Any) -> list[Any]:
    drawn: list[Any] = []

    @given(operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=2,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def draw(case: Any) -> None:
        drawn.append(case)

    draw()
    return drawn


def test_schemathesis_can_generate_every_operation() -> None:
    """Issue 18 fuzzes the server with this document: every operation must yield
    positive and negative cases."""
    loaded = schemathesis.openapi.from_path(str(PATH))
    done = 0
    for result in loaded.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            drawn = _draw(operation, mode)
            assert drawn
            assert all(case.operation is operation for case in drawn)
            done += 1
    assert done == 2 * len(OPERATIONS)


def _free_text(schema: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """The string properties of a request body a client may fill freely (no
    enum, const, format or anchored pattern already keeps NUL out)."""
    schema = resolve(schema)
    for variant in schema.get("oneOf", [schema]):
        for name, raw in resolve(variant).get("properties", {}).items():
            prop = resolve(raw)
            if prop.get("type") != "string" or "enum" in prop or "const" in prop:
                continue
            if "format" in prop or str(prop.get("pattern", "")).startswith("^"):
                continue
            yield name, prop


def test_free_text_in_request_bodies_refuses_nul() -> None:
    # PostgreSQL text cannot hold U+0000: the contract refuses it, so that the
    # server's 422 for it is a documented refusal on every backend.
    checked = 0
    for method, path, op, _ in OPERATIONS:
        if "requestBody" not in op:
            continue
        for name, prop in _free_text(op["requestBody"]["content"]["application/json"]["schema"]):
            assert prop.get("not") == {"pattern": "\\x00"}, f"{method} {path}: {name}"
            checked += 1
    assert checked == 11
    login = _validator("LoginRequest")
    assert login.is_valid({"username": "alice", "password": "pw"})
    assert not login.is_valid({"username": "al\x00ice", "password": "pw"})
