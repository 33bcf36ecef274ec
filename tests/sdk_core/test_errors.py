"""One error hierarchy; every API's error format understood; the response always reachable."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from sdk_core import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InputValidationError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseValidationError,
    SDKError,
    SyncAPIClient,
    UnprocessableEntityError,
    parse_error_body,
)
from sdk_core import BaseModel as Model

BASE = "https://api.example.test"


def client() -> SyncAPIClient:
    return SyncAPIClient(base_url=BASE, max_retries=0)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (503, InternalServerError),
        (418, APIStatusError),
    ],
)
@respx.mock
def test_each_status_has_its_class(status: int, cls: type[APIStatusError]) -> None:
    respx.get(f"{BASE}/x").mock(
        return_value=httpx.Response(status, headers={"X-Request-ID": "r-1"})
    )
    with pytest.raises(cls) as info:
        client().request("GET", "/x", cast_to=dict)
    error = info.value
    assert type(error) is cls
    assert isinstance(error, SDKError)
    assert error.status_code == status
    assert error.request_id == "r-1"
    assert error.response.headers["X-Request-ID"] == "r-1"


@pytest.mark.parametrize(
    ("body", "code", "message", "details"),
    [
        (  # device gateway, EXASPERATION
            {"error": {"code": "BAD", "message": "bad thing", "details": {"field": "limit"}}},
            "BAD",
            "bad thing",
            {"field": "limit"},
        ),
        (  # KubeNexus envelope
            {"status": "error", "error": {"code": "CLUSTER_NOT_FOUND", "message": "gone"}},
            "CLUSTER_NOT_FOUND",
            "gone",
            None,
        ),
        (  # compliance platform
            {"detail": "Site not found", "status": "error", "code": "SITE_NOT_FOUND"},
            "SITE_NOT_FOUND",
            "Site not found",
            None,
        ),
        (  # FastAPI validation errors
            {"detail": [{"loc": ["body", "x"], "msg": "field required"}]},
            None,
            None,
            [{"loc": ["body", "x"], "msg": "field required"}],
        ),
        ({"code": "INVALID_QUERY", "message": "bad NQL"}, "INVALID_QUERY", "bad NQL", None),
        (  # Nexthink enrichment 400
            {"status": "error", "errors": [{"identification": [], "errors": []}]},
            None,
            None,
            [{"identification": [], "errors": []}],
        ),
    ],
)
def test_error_body_formats(
    body: object, code: str | None, message: str | None, details: object
) -> None:
    parsed = parse_error_body(json.dumps(body).encode())
    assert (parsed.code, parsed.message, parsed.details) == (code, message, details)


def test_non_json_error_body_falls_back_to_text() -> None:
    parsed = parse_error_body(b"<html>Bad Gateway</html>")
    assert parsed.message == "<html>Bad Gateway</html>"
    assert parsed.code is None


@respx.mock
def test_error_str_names_status_code_message_and_request_id() -> None:
    respx.get(f"{BASE}/c/1").mock(
        return_value=httpx.Response(
            404,
            json={
                "error": {"code": "NOT_FOUND", "message": "no such cluster"},
                "request_id": "req_9",
            },
        )
    )
    with pytest.raises(NotFoundError) as info:
        client().request("GET", "/c/1", cast_to=dict)
    assert str(info.value) == "404 [NOT_FOUND] no such cluster (request id req_9)"
    assert info.value.body["request_id"] == "req_9"


@respx.mock
def test_rate_limit_error_carries_the_headers() -> None:
    respx.get(f"{BASE}/x").mock(
        return_value=httpx.Response(
            429,
            headers={
                "Retry-After": "90",
                "X-Rate-Limit-Limit": "60",
                "X-Rate-Limit-Remaining": "0",
                "X-Rate-Limit-Reset": "42",
            },
        )
    )
    with pytest.raises(RateLimitError) as info:
        client().request("GET", "/x", cast_to=dict)
    assert info.value.retry_after == 90.0
    assert info.value.rate_limit.limit == 60
    assert info.value.rate_limit.remaining == 0
    assert info.value.rate_limit.reset_after == 42.0


class Cluster(Model):
    id: int
    name: str


@respx.mock
def test_body_that_does_not_match_its_model() -> None:
    respx.get(f"{BASE}/c/1").mock(return_value=httpx.Response(200, json={"id": "x"}))
    with pytest.raises(ResponseValidationError) as info:
        client().request("GET", "/c/1", cast_to=Cluster)
    assert info.value.status_code == 200
    assert "Cluster" in str(info.value)


def test_input_validation_error_is_a_value_error_naming_the_field() -> None:
    error = InputValidationError("devices[3]", "is not a UUID", value="nope")
    assert isinstance(error, ValueError)
    assert isinstance(error, SDKError)
    assert error.field == "devices[3]"
    assert str(error) == "devices[3]: is not a UUID"


@pytest.mark.parametrize(
    "details",
    [
        {"fields": {"name": "already taken", "region": ["unknown", "required"]}},
        {"name": "already taken", "region": ["unknown", "required"]},
        [
            {"field": "name", "message": "already taken"},
            {"field": "region", "message": "unknown"},
            {"loc": ["body", "region"], "msg": "required"},
        ],
    ],
)
@respx.mock
def test_422_field_errors_in_every_shape(details: object) -> None:
    respx.post(f"{BASE}/c").mock(
        return_value=httpx.Response(
            422,
            json={
                "status": "error",
                "error": {"code": "VALIDATION_ERROR", "message": "bad", "details": details},
            },
        )
    )
    with pytest.raises(UnprocessableEntityError) as info:
        client().request("POST", "/c", json={}, cast_to=dict)
    assert info.value.code == "VALIDATION_ERROR"
    assert info.value.field_errors == {"name": ["already taken"], "region": ["unknown", "required"]}
