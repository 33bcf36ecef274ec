"""The EXASPERATION clients: ``ExasperationClient`` and its async twin.

Everything but sending lives in module functions shared by both: building and
validating each request, choosing the error class, attaching the request id.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar, Unpack

import httpx
import pydantic

from sdk_core import (
    NOT_GIVEN,
    APIResponse,
    APIStatusError,
    AsyncAPIClient,
    AsyncClientOptions,
    AsyncSleep,
    Clock,
    InputValidationError,
    NotGiven,
    PermissionDeniedError,
    RateLimiter,
    RequestOptions,
    Sleep,
    StaticAuth,
    SyncAPIClient,
    SyncClientOptions,
    input_error_from,
)

from ._models import (
    FeedbackResult,
    MetadataOptions,
    Rating,
    SearchFilters,
    SearchOptions,
    SearchResult,
    SessionStatus,
    Suggestions,
)
from ._version import __version__

__all__ = [
    "DEFAULT_BASE_URL",
    "AsyncExasperationClient",
    "ExasperationClient",
    "FeatureNotEnabledError",
]

DEFAULT_BASE_URL = "https://api.exasperation.example.com/v1"
REQUESTS_PER_MINUTE = 60
MAX_IN_FLIGHT = 5

M = TypeVar("M", bound=pydantic.BaseModel)

# Which feature of the key each gated endpoint needs (the addendum).
_FEATURE_BY_PATH = {"suggestions": "suggestions", "metadata/options": "advanced_filtering"}


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


def _error_class(response: httpx.Response) -> type[APIStatusError] | None:
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


def search_request(
    query: str,
    *,
    filters: SearchFilters | Mapping[str, Any] | None,
    max_results: int | None,
    include_metadata: bool | None,
    rerank: bool | None,
    threshold: float | None,
) -> RequestOptions:
    options = {
        "max_results": max_results,
        "include_metadata": include_metadata,
        "rerank": rerank,
        "threshold": threshold,
    }
    options = {k: v for k, v in options.items() if v is not None}
    request = _validated(
        _SearchRequest,
        {"query": query, "filters": filters, "options": options or None},
    )
    # A read-only POST: safe to retry on 5xx, as the API's notes ask.
    return RequestOptions(method="POST", url="/search", json=_body(request), idempotent=True)


def suggestions_request(partial_query: str, limit: int | None) -> RequestOptions:
    if not isinstance(partial_query, str) or not partial_query.strip():
        raise InputValidationError(
            "partial_query", "must be a non-empty string", value=partial_query
        )
    params: dict[str, Any] = {"partial_query": partial_query}
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100:
            raise InputValidationError("limit", "must be an integer from 1 to 100", value=limit)
        params["limit"] = limit
    return RequestOptions(method="GET", url="/suggestions", params=params)


def feedback_request(
    request_id: str,
    rating: str,
    *,
    comments: str | None,
    selected_sources: Sequence[str] | None,
    user_query_reformulation: str | None,
) -> RequestOptions:
    if isinstance(selected_sources, str):
        raise InputValidationError("selected_sources", "must be a list of source ids, not a string")
    request = _validated(
        _FeedbackRequest,
        {
            "request_id": request_id,
            "rating": rating,
            "comments": comments,
            "selected_sources": list(selected_sources) if selected_sources is not None else None,
            "user_query_reformulation": user_query_reformulation,
        },
    )
    # Not idempotent: a 5xx may have recorded the feedback; it is not sent twice.
    return RequestOptions(method="POST", url="/feedback", json=_body(request))


def with_request_id(raw: APIResponse[Any]) -> Any:
    """The parsed result, carrying the call's request id when its body had none."""
    result = raw.parsed
    if getattr(result, "request_id", None) is None and raw.request_id is not None:
        result.request_id = raw.request_id
    return result


def _config(api_key: str | None, base_url: str | None) -> tuple[str, str]:
    key = api_key if api_key is not None else os.environ.get("EXASPERATION_API_KEY")
    if not key:
        raise InputValidationError("api_key", "missing: pass api_key= or set EXASPERATION_API_KEY")
    url = base_url or os.environ.get("EXASPERATION_BASE_URL") or DEFAULT_BASE_URL
    return key, url


def _limiter(
    rate_limiter: RateLimiter | NotGiven | None,
    clock: Clock | None,
    sleep: Sleep | None = None,
    async_sleep: AsyncSleep | None = None,
) -> RateLimiter | None:
    if not isinstance(rate_limiter, NotGiven):
        return rate_limiter
    kwargs: dict[str, Any] = {"sleep": sleep, "async_sleep": async_sleep}
    if clock is not None:
        kwargs["clock"] = clock
    return RateLimiter(REQUESTS_PER_MINUTE, 60.0, MAX_IN_FLIGHT, **kwargs)


class ExasperationClient(SyncAPIClient):
    """EXASPERATION search, sync.

    ``rate_limiter`` defaults to 60 requests a minute and 5 in flight, shared by
    every thread using this client; pass your own :class:`RateLimiter` to
    change it, or ``None`` to turn it off.
    """

    package_name = "exasperation_sdk"
    package_version = __version__

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        rate_limiter: RateLimiter | NotGiven | None = NOT_GIVEN,
        **options: Unpack[SyncClientOptions],
    ) -> None:
        key, url = _config(api_key, base_url)
        options.setdefault("max_retries", 3)
        limiter = _limiter(rate_limiter, options.get("clock"), sleep=options.get("sleep"))
        super().__init__(base_url=url, auth=StaticAuth(key), rate_limiter=limiter, **options)

    def _error_class(self, response: httpx.Response) -> type[APIStatusError] | None:
        return _error_class(response)

    def search(
        self,
        query: str,
        *,
        filters: SearchFilters | Mapping[str, Any] | None = None,
        max_results: int | None = None,
        include_metadata: bool | None = None,
        rerank: bool | None = None,
        threshold: float | None = None,
    ) -> SearchResult:
        """Ask a question; get an answer, its sources and suggested follow-ups."""
        opts = search_request(
            query,
            filters=filters,
            max_results=max_results,
            include_metadata=include_metadata,
            rerank=rerank,
            threshold=threshold,
        )
        return with_request_id(self.request_raw(opts, SearchResult))  # type: ignore[no-any-return]

    def suggestions(self, partial_query: str, limit: int | None = None) -> Suggestions:
        """Autocomplete suggestions for a partial query (needs the ``suggestions`` feature)."""
        opts = suggestions_request(partial_query, limit)
        return with_request_id(self.request_raw(opts, Suggestions))  # type: ignore[no-any-return]

    def feedback(
        self,
        request_id: str,
        rating: Rating,
        *,
        comments: str | None = None,
        selected_sources: Sequence[str] | None = None,
        user_query_reformulation: str | None = None,
    ) -> FeedbackResult:
        """Rate the answer of an earlier search (its ``request_id``)."""
        opts = feedback_request(
            request_id,
            rating,
            comments=comments,
            selected_sources=selected_sources,
            user_query_reformulation=user_query_reformulation,
        )
        return with_request_id(self.request_raw(opts, FeedbackResult))  # type: ignore[no-any-return]

    def metadata_options(self) -> MetadataOptions:
        """Values usable in search filters (needs ``advanced_filtering``)."""
        opts = RequestOptions(method="GET", url="/metadata/options")
        return with_request_id(self.request_raw(opts, MetadataOptions))  # type: ignore[no-any-return]

    def session_status(self) -> SessionStatus:
        """The key's session: tier, enabled features and rate limit."""
        opts = RequestOptions(method="GET", url="/session/status")
        return with_request_id(self.request_raw(opts, SessionStatus))  # type: ignore[no-any-return]


class AsyncExasperationClient(AsyncAPIClient):
    """EXASPERATION search, async: the same methods as :class:`ExasperationClient`.

    The default limiter (60 a minute, 5 in flight) is shared by every task
    using this client.
    """

    package_name = "exasperation_sdk"
    package_version = __version__

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        rate_limiter: RateLimiter | NotGiven | None = NOT_GIVEN,
        **options: Unpack[AsyncClientOptions],
    ) -> None:
        key, url = _config(api_key, base_url)
        options.setdefault("max_retries", 3)
        limiter = _limiter(rate_limiter, options.get("clock"), async_sleep=options.get("sleep"))
        super().__init__(base_url=url, auth=StaticAuth(key), rate_limiter=limiter, **options)

    def _error_class(self, response: httpx.Response) -> type[APIStatusError] | None:
        return _error_class(response)

    async def search(
        self,
        query: str,
        *,
        filters: SearchFilters | Mapping[str, Any] | None = None,
        max_results: int | None = None,
        include_metadata: bool | None = None,
        rerank: bool | None = None,
        threshold: float | None = None,
    ) -> SearchResult:
        """Ask a question; get an answer, its sources and suggested follow-ups."""
        opts = search_request(
            query,
            filters=filters,
            max_results=max_results,
            include_metadata=include_metadata,
            rerank=rerank,
            threshold=threshold,
        )
        return with_request_id(await self.request_raw(opts, SearchResult))  # type: ignore[no-any-return]

    async def suggestions(self, partial_query: str, limit: int | None = None) -> Suggestions:
        """Autocomplete suggestions for a partial query (needs the ``suggestions`` feature)."""
        opts = suggestions_request(partial_query, limit)
        return with_request_id(await self.request_raw(opts, Suggestions))  # type: ignore[no-any-return]

    async def feedback(
        self,
        request_id: str,
        rating: Rating,
        *,
        comments: str | None = None,
        selected_sources: Sequence[str] | None = None,
        user_query_reformulation: str | None = None,
    ) -> FeedbackResult:
        """Rate the answer of an earlier search (its ``request_id``)."""
        opts = feedback_request(
            request_id,
            rating,
            comments=comments,
            selected_sources=selected_sources,
            user_query_reformulation=user_query_reformulation,
        )
        return with_request_id(await self.request_raw(opts, FeedbackResult))  # type: ignore[no-any-return]

    async def metadata_options(self) -> MetadataOptions:
        """Values usable in search filters (needs ``advanced_filtering``)."""
        opts = RequestOptions(method="GET", url="/metadata/options")
        return with_request_id(await self.request_raw(opts, MetadataOptions))  # type: ignore[no-any-return]

    async def session_status(self) -> SessionStatus:
        """The key's session: tier, enabled features and rate limit."""
        opts = RequestOptions(method="GET", url="/session/status")
        return with_request_id(await self.request_raw(opts, SessionStatus))  # type: ignore[no-any-return]
