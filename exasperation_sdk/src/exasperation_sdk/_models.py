"""Requests and responses of the EXASPERATION API.

Response models keep fields the service adds later. Request models forbid
unknown fields, so that a typo fails here, naming the field, instead of being
silently ignored by the service.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import pydantic
from pydantic import Field

from sdk_core import BaseModel, html_section, html_table, html_text

__all__ = [
    "FeedbackResult",
    "Health",
    "MetadataOptions",
    "Rating",
    "RateLimitStatus",
    "SearchFilters",
    "SearchMetadata",
    "SearchOptions",
    "SearchResult",
    "SessionStatus",
    "Source",
    "SourceMetadata",
    "Suggestions",
]

Rating = Literal["positive", "negative"]
NonEmpty = Annotated[str, Field(min_length=1)]


class _Input(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


class SearchFilters(_Input):
    """Narrow a search. Dates are inclusive; ``created_after`` must not be
    after ``created_before``."""

    document_types: list[NonEmpty] | None = None
    vendors: list[NonEmpty] | None = None
    products: list[NonEmpty] | None = None
    created_after: dt.date | None = None
    created_before: dt.date | None = None

    @pydantic.field_validator("created_after", "created_before", mode="before")
    @classmethod
    def _date_only(cls, value: object) -> object:
        if isinstance(value, dt.datetime):
            return value.date()
        return value

    @pydantic.model_validator(mode="after")
    def _ordered(self) -> SearchFilters:
        if (
            self.created_after is not None
            and self.created_before is not None
            and self.created_after > self.created_before
        ):
            raise ValueError(
                f"created_after ({self.created_after}) is after created_before "
                f"({self.created_before})"
            )
        return self


class SearchOptions(_Input):
    max_results: Annotated[int, Field(ge=1, le=100)] | None = None
    include_metadata: bool | None = None
    rerank: bool | None = None
    threshold: Annotated[float, Field(ge=0.0, le=1.0)] | None = None


class SourceMetadata(BaseModel):
    document_type: str | None = None
    vendor: str | None = None
    product: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class Source(BaseModel):
    id: str
    title: str
    url: str | None = None
    chunk_id: str | None = None
    content: str | None = None
    relevance_score: float
    metadata: SourceMetadata | None = None


class SearchMetadata(BaseModel):
    processing_time_ms: int | None = None
    filter_count: int | None = None
    total_matches: int | None = None
    threshold_applied: float | None = None


class _WithRequestId(BaseModel):
    request_id: str | None = None
    """The service's id for the call behind this result (body or ``X-Request-ID``)."""


class SearchResult(_WithRequestId):
    query: str
    answer: str
    sources: list[Source]
    suggested_queries: list[str] = Field(default_factory=list)
    metadata: SearchMetadata | None = None

    def _repr_html_(self) -> str:
        """The answer, then its sources by relevance, in a notebook (escaped and bounded)."""
        title = f"{self.query!r}: {len(self.sources)} sources"
        if self.request_id:
            title += f" (request {self.request_id})"
        ranked = sorted(self.sources, key=lambda s: s.relevance_score, reverse=True)
        rows = (
            [
                f"{s.relevance_score:.2f}",
                s.title,
                s.metadata and s.metadata.document_type,
                s.metadata and s.metadata.vendor,
                s.metadata and s.metadata.product,
                s.id,
            ]
            for s in ranked
        )
        parts = [
            f"<blockquote>{html_text(self.answer, max_chars=2_000)}</blockquote>",
            html_table(
                ["relevance", "title", "type", "vendor", "product", "id"],
                rows,
                caption="sources",
                total=len(ranked),
            ),
        ]
        if self.suggested_queries:
            parts.append(f"<p>Try: {html_text(' | '.join(self.suggested_queries))}</p>")
        return html_section(title, *parts)


class Suggestions(_WithRequestId):
    suggestions: list[str]
    metadata: dict[str, object] | None = None


class FeedbackResult(_WithRequestId):
    status: str
    feedback_id: str
    message: str | None = None


class DateRange(BaseModel):
    oldest: str | None = None
    newest: str | None = None


class MetadataOptions(_WithRequestId):
    document_types: list[str] = Field(default_factory=list)
    vendors: list[str] = Field(default_factory=list)
    products: dict[str, list[str]] = Field(default_factory=dict)
    use_cases: list[str] = Field(default_factory=list)
    date_range: DateRange | None = None


class RateLimitStatus(BaseModel):
    limit: int | None = None
    remaining: int | None = None
    reset_at: dt.datetime | None = None


class SessionStatus(_WithRequestId):
    authenticated: bool
    user_id: str | None = None
    session_expires_at: dt.datetime | None = None
    rate_limit: RateLimitStatus | None = None
    account_tier: str | None = None
    features_enabled: list[str] = Field(default_factory=list)


class Health(BaseModel):
    """``GET /v1/health``: the service is up (it may say more: kept as extra fields)."""

    status: str | None = None
