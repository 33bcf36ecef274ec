"""Every EXASPERATION call as I/O-free pieces shared by the sync and async clients:
validated request options, the error class of a 403, the request id on results."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import httpx
import pydantic

from sdk_core import (
    APIResponse,
    APIStatusError,
    InputValidationError,
    NotGiven,
    PermissionDeniedError,
    RequestOptions,
    input_error_from,
    strip_not_given,
)

from ._models import Rating, SearchFilters, SearchOptions

M = TypeVar("M", bound=pydantic.BaseModel)

# Which feature of the key each gated endpoint needs (the addendum).
_FEATURE_BY_PATH = {"suggestions": "suggestions", "metadata/options": "advanced_filtering"}

METADATA_OPTIONS = RequestOptions(method="GET", url="/metadata/options")
SESSION_STATUS = RequestOptions(method="GET", url="/session/status")
# The addendum's health check: no key needed.
HEALTH = RequestOptions(method="GET", url="/health", authenticated=False)


def feature_for(request: httpx.Request, details: Any = None) -> str | None:
    """The feature a 403 on ``request`` is about: the server's word, else the endpoint's."""
    if isinstance(details, Mapping) and isinstance(details.get("feature"), str):
        return str(details["feature"])
    path = request.url.path
    for suffix, feature in _FEATURE_BY_PATH.items():
        if path.endswith("/" + suffix):
            return feature
    if path.endswith("/search"):
        try:
            body = json.loads(request.content or b"{}")
        except ValueError:
            return None
        if isinstance(body, dict) and body.get("filters"):
            return "advanced_filtering"
    return None


class FeatureNotEnabledError(PermissionDeniedError):
    """403: the API key lacks a feature the call needs; ``feature`` names it."""

    @property
    def feature(self) -> str | None:
        return feature_for(self.request, self.details)

    def __str__(self) -> str:
        return f"{super().__str__()}: the API key lacks the {self.feature!r} feature"


def error_class(response: httpx.Response) -> type[APIStatusError] | None:
    if response.status_code == 403 and feature_for(response.request) is not None:
        return FeatureNotEnabledError
    return None


class _SearchRequest(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    query: str = pydantic.Field(min_length=1)
    filters: SearchFilters | None = None
    options: SearchOptions | None = None

    @pydantic.field_validator("query")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class _FeedbackRequest(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    request_id: str = pydantic.Field(min_length=1)
    rating: Rating
    comments: str | None = None
    selected_sources: list[str] | None = None
    user_query_reformulation: str | None = None


def _validated(model: type[M], data: Mapping[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise input_error_from(exc) from None


def _body(model: pydantic.BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_none=True)


def _given(**fields: Any) -> dict[str, Any]:
    # None and NOT_GIVEN both leave a field out: this API has no nullable request field.
    return {k: v for k, v in strip_not_given(fields).items() if v is not None}


def search_request(
    query: str,
    *,
    filters: SearchFilters | Mapping[str, Any] | NotGiven | None,
    max_results: int | NotGiven | None,
    include_metadata: bool | NotGiven | None,
    rerank: bool | NotGiven | None,
    threshold: float | NotGiven | None,
) -> RequestOptions:
    options = _given(
        max_results=max_results,
        include_metadata=include_metadata,
        rerank=rerank,
        threshold=threshold,
    )
    request = _validated(
        _SearchRequest,
        {"query": query, "options": options or None, **_given(filters=filters)},
    )
    # A read-only POST: safe to retry on 5xx, as the API's notes ask.
    return RequestOptions(method="POST", url="/search", json=_body(request), idempotent=True)


def suggestions_request(partial_query: str, limit: int | NotGiven | None) -> RequestOptions:
    if not isinstance(partial_query, str) or not partial_query.strip():
        raise InputValidationError(
            "partial_query", "must be a non-empty string", value=partial_query
        )
    params: dict[str, Any] = {"partial_query": partial_query}
    if limit is not None and not isinstance(limit, NotGiven):
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100:
            raise InputValidationError("limit", "must be an integer from 1 to 100", value=limit)
        params["limit"] = limit
    return RequestOptions(method="GET", url="/suggestions", params=params)


def feedback_request(
    request_id: str,
    rating: str,
    *,
    comments: str | NotGiven | None,
    selected_sources: Sequence[str] | NotGiven | None,
    user_query_reformulation: str | NotGiven | None,
) -> RequestOptions:
    if isinstance(selected_sources, str):
        raise InputValidationError("selected_sources", "must be a list of source ids, not a string")
    fields = _given(
        comments=comments,
        selected_sources=selected_sources,
        user_query_reformulation=user_query_reformulation,
    )
    if "selected_sources" in fields:
        fields["selected_sources"] = list(fields["selected_sources"])
    request = _validated(_FeedbackRequest, {"request_id": request_id, "rating": rating, **fields})
    # Not idempotent: a 5xx may have recorded the feedback; it is not sent twice.
    return RequestOptions(method="POST", url="/feedback", json=_body(request))


def with_request_id(raw: APIResponse[Any]) -> Any:
    """The parsed result, carrying the call's request id when its body had none."""
    result = raw.parsed
    if getattr(result, "request_id", None) is None and raw.request_id is not None:
        result.request_id = raw.request_id
    return result
