"""The EXASPERATION emulator: ``/v1`` search, suggestions, feedback, metadata
options, session status and health, with the service's rules: Bearer keys,
60 requests a minute and 5 in flight per key, feature-gated 403s, the
request id on every answer and in every error body."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import math
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

import attrs
from pydantic import Field, model_validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..._errors import (
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    Unauthenticated,
)
from ...edge import Body, JSONResponse, RateLimiter, known_query, read_json
from ...security import hash_secret
from .._common import Context, VendorApp, refuse_over_limit, request_id, vendor_app
from ._corpus import Corpus, Document

__all__ = ["credentials", "ExasperationEmulator"]

Date = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]
Names = list[Annotated[str, Field(min_length=1)]]


class _Filters(Body):
    document_types: Names | None = None
    vendors: Names | None = None
    products: Names | None = None
    created_after: Date | None = None
    created_before: Date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> _Filters:
        if self.created_after and self.created_before and self.created_after > self.created_before:
            raise ValueError("created_after must not be later than created_before")
        return self


class _Options(Body):
    max_results: Annotated[int, Field(ge=1, le=100)] | None = None
    include_metadata: bool | None = None
    rerank: bool | None = None
    threshold: Annotated[float, Field(ge=0, le=1)] | None = None


class _Search(Body):
    query: Annotated[str, Field(min_length=1, max_length=2000)]
    filters: _Filters | None = None
    options: _Options | None = None


class _Feedback(Body):
    request_id: Annotated[str, Field(min_length=1)]
    rating: Literal["positive", "negative"]
    comments: str | None = None
    selected_sources: list[str] | None = None
    user_query_reformulation: str | None = None


@attrs.define
class _Key:
    user_id: str
    tier: str
    features: frozenset[str]
    expires_at: float
    limiter: RateLimiter
    in_flight: int = 0
    searches: set[str] = attrs.field(factory=set)


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class ExasperationEmulator:
    name = "exasperation"

    def __init__(self, context: Context) -> None:
        self.context = context
        seed = context.seed
        self.clock = context.clock
        self.corpus = Corpus(
            (Document.of(d) for d in seed.get("documents", ())), seed.get("questions", ())
        )
        self.use_cases: list[str] = list(seed.get("use_cases", ()))
        self.max_in_flight = int(seed.get("max_in_flight", 5))
        self.latency = float(seed.get("search_latency_ms", 0)) / 1000
        default_limit = int(seed.get("requests_per_minute", 60))
        started = self.clock()
        self.keys: dict[str, _Key] = {}
        for raw in seed.get("keys", ()):
            expires = raw.get("expires_at")
            self.keys[hash_secret(raw["key"])] = _Key(
                user_id=raw.get("user_id", "usr_emulated"),
                tier=raw.get("tier", "standard"),
                features=frozenset(raw.get("features", ())),
                expires_at=_epoch(expires) if expires else started + 365 * 86400,
                limiter=RateLimiter(raw.get("requests_per_minute", default_limit), 60, self.clock),
            )
        self.feedback: list[dict[str, Any]] = []
        self._feedback_ids = itertools.count(1)

    # -- the app ---------------------------------------------------------------------
    def apps(self) -> dict[str, VendorApp]:
        routes: list[BaseRoute] = [
            Route("/v1/health", self.health),
            Route("/v1/search", self.search, methods=["POST"]),
            Route("/v1/suggestions", self.suggestions),
            Route("/v1/feedback", self.post_feedback, methods=["POST"]),
            Route("/v1/metadata/options", self.metadata_options),
            Route("/v1/session/status", self.session_status),
        ]
        return {self.name: vendor_app(routes, render)}

    async def stop(self) -> None:
        """Nothing to let go of."""

    # -- who is calling, and may they ----------------------------------------------
    def _key(self, request: Request) -> _Key:
        auth = request.headers.get("authorization", "")
        scheme, _, presented = auth.partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            raise Unauthenticated("missing API key: send Authorization: Bearer <key>")
        key = self.keys.get(hash_secret(presented))
        if key is None:
            raise Unauthenticated("invalid API key", code="invalid_api_key")
        if self.clock() >= key.expires_at:
            raise Unauthenticated("the API key's session has expired", code="session_expired")
        return key

    @asynccontextmanager
    async def _admitted(self, request: Request) -> AsyncIterator[_Key]:
        """The caller's key, counted against its rate and its requests in flight."""
        key = self._key(request)
        verdict = key.limiter.hit(key.user_id)
        now = self.clock()
        reset_in = max(0, math.ceil(verdict.reset_at - now))
        request.scope["exasperation.limits"] = {
            "X-Rate-Limit-Limit": str(verdict.limit),
            "X-Rate-Limit-Remaining": str(verdict.remaining),
            "X-Rate-Limit-Reset": str(reset_in),
        }
        refuse_over_limit(verdict, now, "rate_limit_exceeded")
        if key.in_flight >= self.max_in_flight:
            raise RateLimited(
                f"at most {self.max_in_flight} requests in flight per key",
                code="too_many_concurrent_requests",
                headers={"Retry-After": "1"},
            )
        key.in_flight += 1
        try:
            yield key
        finally:
            key.in_flight -= 1

    @staticmethod
    def _needs(key: _Key, feature: str) -> None:
        if feature not in key.features:
            raise Forbidden(
                f"this API key lacks the {feature!r} feature",
                {"feature": feature},
                code="feature_not_enabled",
            )

    # -- endpoints ---------------------------------------------------------------------
    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "healthy", "timestamp": _iso(self.clock())})

    async def search(self, request: Request) -> Response:
        async with self._admitted(request) as key:
            started = time.perf_counter()
            body = await read_json(request, _Search, self.context.max_body_bytes)
            if not body.query.strip():
                raise _invalid("query", "empty_value", "query: must not be blank")
            filters = body.filters.model_dump(exclude_none=True) if body.filters else {}
            if filters:
                self._needs(key, "advanced_filtering")
            options = body.options or _Options()
            if self.latency:
                await asyncio.sleep(self.latency)
            threshold = options.threshold if options.threshold is not None else 0.0
            hits, total = self.corpus.search(body.query, filters, threshold)
            shown = hits[: options.max_results or 10]
            rid = request_id(request)
            key.searches.add(rid)
            sources = [h.document.source(h.relevance, i) for i, h in enumerate(shown)]
            if options.include_metadata is False:
                for source in sources:
                    source.pop("metadata")
            answer = {
                "request_id": rid,
                "query": body.query,
                "answer": self.corpus.answer(shown),
                "sources": sources,
                "suggested_queries": self.corpus.related(shown, body.query),
                "metadata": {
                    "processing_time_ms": _elapsed_ms(started),
                    "filter_count": sum(
                        len(v) if isinstance(v, list) else 1 for v in filters.values()
                    ),
                    "total_matches": total,
                    "threshold_applied": threshold,
                },
            }
            return _ok(request, answer)

    async def suggestions(self, request: Request) -> Response:
        async with self._admitted(request) as key:
            started = time.perf_counter()
            known_query(request, "partial_query", "limit")
            self._needs(key, "suggestions")
            partial = request.query_params.get("partial_query", "")
            if not partial.strip():
                raise _invalid("partial_query", "empty_value", "partial_query: is required")
            limit = _query_limit(request)
            found = self.corpus.suggestions(partial, limit)
            metadata = {"processing_time_ms": _elapsed_ms(started)}
            return _ok(request, {"suggestions": found, "metadata": metadata})

    async def post_feedback(self, request: Request) -> Response:
        async with self._admitted(request) as key:
            body = await read_json(request, _Feedback, self.context.max_body_bytes)
            if body.request_id not in key.searches:
                raise NotFound(
                    f"no search {body.request_id!r} of this key to give feedback on",
                    {"parameter": "request_id", "reason": "unknown_request"},
                    code="not_found",
                )
            feedback_id = f"fb_{next(self._feedback_ids):06d}"
            self.feedback.append({"feedback_id": feedback_id, **body.model_dump()})
            answer = {
                "status": "success",
                "feedback_id": feedback_id,
                "message": "Thank you for your feedback!",
            }
            return _ok(request, answer)

    async def metadata_options(self, request: Request) -> Response:
        async with self._admitted(request) as key:
            known_query(request)
            self._needs(key, "advanced_filtering")
            return _ok(request, self.corpus.options(self.use_cases))

    async def session_status(self, request: Request) -> Response:
        async with self._admitted(request) as key:
            known_query(request)
            limits = request.scope["exasperation.limits"]
            now = self.clock()
            answer = {
                "authenticated": True,
                "user_id": key.user_id,
                "session_expires_at": _iso(key.expires_at),
                "rate_limit": {
                    "limit": int(limits["X-Rate-Limit-Limit"]),
                    "remaining": int(limits["X-Rate-Limit-Remaining"]),
                    "reset_at": _iso(now + int(limits["X-Rate-Limit-Reset"])),
                },
                "account_tier": key.tier,
                "features_enabled": sorted(key.features),
            }
            return _ok(request, answer)


def credentials(seed: Mapping[str, Any], root: str) -> dict[str, str]:
    """What the client needs to call this emulator at ``root``: its first key."""
    return {"base_url": f"{root}/v1", "api_key": seed["keys"][0]["key"]}


def _elapsed_ms(started: float) -> int:
    return max(0, round((time.perf_counter() - started) * 1000))


def _query_limit(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return 5
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise _invalid("limit", "out_of_range", "limit: must be an integer from 1 to 100")
    return int(raw)


def _invalid(parameter: str, reason: str, message: str) -> DomainError:
    return InvalidInput(message, {"parameter": parameter, "reason": reason}, code="invalid_query")


def _ok(request: Request, body: Any) -> Response:
    return JSONResponse(body, headers=request.scope.get("exasperation.limits"))


def render(request: Request, status: int, error: DomainError) -> Response:
    """EXASPERATION's error body: ``{"error": {code, message, details?}, "request_id"}``."""
    inner: dict[str, Any] = {"code": error.code.lower(), "message": error.message}
    details = dict(error.details or {})
    if "field" in details:  # the server's parsing names the field; the service says parameter
        details = {"parameter": details.pop("field"), "reason": "invalid_value", **details}
    if details:
        inner["details"] = details
    headers = {**(request.scope.get("exasperation.limits") or {}), **(error.headers or {})}
    body = {"error": inner, "request_id": request_id(request)}
    return JSONResponse(body, status_code=status, headers=headers)
