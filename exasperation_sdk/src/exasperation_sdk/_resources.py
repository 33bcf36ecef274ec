"""The EXASPERATION endpoints, as the methods of the clients (the API is flat:
``client.search(...)``), in a sync and an async twin over :mod:`._requests`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Unpack

from sdk_core import (
    NOT_GIVEN,
    APIResponse,
    MutationOverrides,
    NotGiven,
    RequestOptions,
    RequestOverrides,
    async_to_raw_response_wrapper,
    to_raw_response_wrapper,
)

from . import _requests as req
from ._models import (
    FeedbackResult,
    Health,
    MetadataOptions,
    Rating,
    SearchFilters,
    SearchResult,
    SessionStatus,
    Suggestions,
)

Filters = SearchFilters | Mapping[str, Any] | None | NotGiven


class SearchAPI:
    """The endpoints, sync (mixed into :class:`ExasperationClient`)."""

    if TYPE_CHECKING:

        def request_raw(
            self, opts: RequestOptions, cast_to: Any, overrides: Mapping[str, Any] | None = None
        ) -> APIResponse[Any]: ...

    def search(
        self,
        query: str,
        *,
        filters: Filters = NOT_GIVEN,
        max_results: int | NotGiven = NOT_GIVEN,
        include_metadata: bool | NotGiven = NOT_GIVEN,
        rerank: bool | NotGiven = NOT_GIVEN,
        threshold: float | NotGiven = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> SearchResult:
        """Ask a question; get an answer, its sources and suggested follow-ups."""
        opts = req.search_request(
            query,
            filters=filters,
            max_results=max_results,
            include_metadata=include_metadata,
            rerank=rerank,
            threshold=threshold,
        )
        return req.with_request_id(self.request_raw(opts, SearchResult, options))  # type: ignore[no-any-return]

    def suggestions(
        self,
        partial_query: str,
        limit: int | NotGiven = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> Suggestions:
        """Autocomplete suggestions for a partial query (needs the ``suggestions`` feature)."""
        opts = req.suggestions_request(partial_query, limit)
        return req.with_request_id(self.request_raw(opts, Suggestions, options))  # type: ignore[no-any-return]

    def feedback(
        self,
        request_id: str,
        rating: Rating,
        *,
        comments: str | NotGiven = NOT_GIVEN,
        selected_sources: Sequence[str] | NotGiven = NOT_GIVEN,
        user_query_reformulation: str | NotGiven = NOT_GIVEN,
        **options: Unpack[MutationOverrides],
    ) -> FeedbackResult:
        """Rate the answer of an earlier search (its ``request_id``)."""
        opts = req.feedback_request(
            request_id,
            rating,
            comments=comments,
            selected_sources=selected_sources,
            user_query_reformulation=user_query_reformulation,
        )
        return req.with_request_id(self.request_raw(opts, FeedbackResult, options))  # type: ignore[no-any-return]

    def metadata_options(self, **options: Unpack[RequestOverrides]) -> MetadataOptions:
        """Values usable in search filters (needs ``advanced_filtering``)."""
        raw = self.request_raw(req.METADATA_OPTIONS, MetadataOptions, options)
        return req.with_request_id(raw)  # type: ignore[no-any-return]

    def session_status(self, **options: Unpack[RequestOverrides]) -> SessionStatus:
        """The key's session: tier, enabled features and rate limit."""
        raw = self.request_raw(req.SESSION_STATUS, SessionStatus, options)
        return req.with_request_id(raw)  # type: ignore[no-any-return]

    def health(self, **options: Unpack[RequestOverrides]) -> Health:
        """``GET /v1/health``: whether the service is up (no key needed)."""
        return self.request_raw(req.HEALTH, Health, options).parsed  # type: ignore[no-any-return]


class AsyncSearchAPI:
    """The endpoints, async (mixed into :class:`AsyncExasperationClient`)."""

    if TYPE_CHECKING:

        async def request_raw(
            self, opts: RequestOptions, cast_to: Any, overrides: Mapping[str, Any] | None = None
        ) -> APIResponse[Any]: ...

    async def search(
        self,
        query: str,
        *,
        filters: Filters = NOT_GIVEN,
        max_results: int | NotGiven = NOT_GIVEN,
        include_metadata: bool | NotGiven = NOT_GIVEN,
        rerank: bool | NotGiven = NOT_GIVEN,
        threshold: float | NotGiven = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> SearchResult:
        """Ask a question; get an answer, its sources and suggested follow-ups."""
        opts = req.search_request(
            query,
            filters=filters,
            max_results=max_results,
            include_metadata=include_metadata,
            rerank=rerank,
            threshold=threshold,
        )
        return req.with_request_id(await self.request_raw(opts, SearchResult, options))  # type: ignore[no-any-return]

    async def suggestions(
        self,
        partial_query: str,
        limit: int | NotGiven = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> Suggestions:
        """Autocomplete suggestions for a partial query (needs the ``suggestions`` feature)."""
        opts = req.suggestions_request(partial_query, limit)
        return req.with_request_id(await self.request_raw(opts, Suggestions, options))  # type: ignore[no-any-return]

    async def feedback(
        self,
        request_id: str,
        rating: Rating,
        *,
        comments: str | NotGiven = NOT_GIVEN,
        selected_sources: Sequence[str] | NotGiven = NOT_GIVEN,
        user_query_reformulation: str | NotGiven = NOT_GIVEN,
        **options: Unpack[MutationOverrides],
    ) -> FeedbackResult:
        """Rate the answer of an earlier search (its ``request_id``)."""
        opts = req.feedback_request(
            request_id,
            rating,
            comments=comments,
            selected_sources=selected_sources,
            user_query_reformulation=user_query_reformulation,
        )
        return req.with_request_id(await self.request_raw(opts, FeedbackResult, options))  # type: ignore[no-any-return]

    async def metadata_options(self, **options: Unpack[RequestOverrides]) -> MetadataOptions:
        """Values usable in search filters (needs ``advanced_filtering``)."""
        raw = await self.request_raw(req.METADATA_OPTIONS, MetadataOptions, options)
        return req.with_request_id(raw)  # type: ignore[no-any-return]

    async def session_status(self, **options: Unpack[RequestOverrides]) -> SessionStatus:
        """The key's session: tier, enabled features and rate limit."""
        raw = await self.request_raw(req.SESSION_STATUS, SessionStatus, options)
        return req.with_request_id(raw)  # type: ignore[no-any-return]

    async def health(self, **options: Unpack[RequestOverrides]) -> Health:
        """``GET /v1/health``: whether the service is up (no key needed)."""
        return (await self.request_raw(req.HEALTH, Health, options)).parsed  # type: ignore[no-any-return]


class SearchAPIWithRawResponse:
    """``client.with_raw_response``: each method answering an ``APIResponse`` of its result."""

    def __init__(self, api: SearchAPI) -> None:
        self.search = to_raw_response_wrapper(api.search)
        self.suggestions = to_raw_response_wrapper(api.suggestions)
        self.feedback = to_raw_response_wrapper(api.feedback)
        self.metadata_options = to_raw_response_wrapper(api.metadata_options)
        self.session_status = to_raw_response_wrapper(api.session_status)
        self.health = to_raw_response_wrapper(api.health)


class AsyncSearchAPIWithRawResponse:
    def __init__(self, api: AsyncSearchAPI) -> None:
        self.search = async_to_raw_response_wrapper(api.search)
        self.suggestions = async_to_raw_response_wrapper(api.suggestions)
        self.feedback = async_to_raw_response_wrapper(api.feedback)
        self.metadata_options = async_to_raw_response_wrapper(api.metadata_options)
        self.session_status = async_to_raw_response_wrapper(api.session_status)
        self.health = async_to_raw_response_wrapper(api.health)
