"""A stand-in for the EXASPERATION service at the HTTP edge (respx side effect).

It keeps the service's rules: Bearer key, 60 requests in any 60 seconds
(then 429 with Retry-After), rate-limit and request-id headers on every
answer, feature gates, and it records what it saw so tests can assert on it.
Time is the test's fake clock.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections import deque
from typing import Any

import httpx

from tests.support import FakeClock

SEARCH_BODY: dict[str, Any] = {
    "query": "How does the password reset detection rule work?",
    "answer": "The password reset detection rule works by monitoring authentication events...",
    "sources": [
        {
            "id": "doc_123",
            "title": "Password Reset Detection Use Case",
            "url": "https://docs.exabeam.com/use-cases/password-reset-detection",
            "chunk_id": "chunk_456",
            "content": "Password reset detection monitors authentication events...",
            "relevance_score": 0.92,
            "metadata": {
                "document_type": "use_case",
                "vendor": "microsoft",
                "product": "active_directory",
                "created_at": "2024-02-15",
                "updated_at": "2024-03-10",
            },
            "embedding_model": "v3",
        }
    ],
    "suggested_queries": ["How do I configure password reset alerting?"],
    "metadata": {
        "processing_time_ms": 235,
        "filter_count": 1,
        "total_matches": 27,
        "threshold_applied": 0.7,
    },
    "cache_hit": False,
}

METADATA_OPTIONS = {
    "document_types": ["use_case", "parser", "rule"],
    "vendors": ["microsoft", "cisco", "okta"],
    "products": {"microsoft": ["active_directory", "azure_ad"], "okta": ["identity_cloud"]},
    "use_cases": ["account_takeover"],
    "date_range": {"oldest": "2022-01-15", "newest": "2025-03-27"},
}


def error(status: int, code: str, message: str, request_id: str, **details: Any) -> httpx.Response:
    body: dict[str, Any] = {"error": {"code": code, "message": message}, "request_id": request_id}
    if details:
        body["error"]["details"] = details
    return httpx.Response(status, json=body)


class FakeExasperation:
    def __init__(
        self,
        clock: FakeClock,
        *,
        api_key: str = "test-key",
        limit: int = 60,
        window: float = 60.0,
        features: frozenset[str] = frozenset({"advanced_filtering", "suggestions", "feedback"}),
        latency: float = 0.0,
    ) -> None:
        self.clock = clock
        self.api_key = api_key
        self.limit = limit
        self.window = window
        self.features = features
        self.latency = latency
        self.starts: deque[float] = deque()
        self.requests: list[httpx.Request] = []
        self.statuses: list[int] = []
        self.forced: deque[httpx.Response] = deque()
        self.in_flight = 0
        self.max_in_flight = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    @property
    def rate_limited(self) -> int:
        return self.statuses.count(429)

    # -- the service ---------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            response = self._answer(request)
            self.statuses.append(response.status_code)
        return response

    def handle_blocking(self, request: httpx.Request) -> httpx.Response:
        """For threaded tests: hold the request open a moment, counting concurrency."""
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            threading.Event().wait(self.latency)
            return self.handle(request)
        finally:
            with self._lock:
                self.in_flight -= 1

    async def ahandle(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.latency)
            return self.handle(request)
        finally:
            self.in_flight -= 1

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        rid = f"req_{next(self._ids):06d}"
        now = self.clock.monotonic()
        while self.starts and self.starts[0] <= now - self.window:
            self.starts.popleft()
        if self.forced:
            response = self.forced.popleft()
        elif request.url.path == "/v1/health":  # unauthenticated, outside the key's limit
            response = httpx.Response(200, json={"status": "ok", "version": "1.4.2"})
        elif request.headers.get("authorization") != f"Bearer {self.api_key}":
            response = error(401, "unauthorized", "Missing or invalid API key", rid)
        elif len(self.starts) >= self.limit:
            wait = self.starts[0] + self.window - now
            response = error(429, "rate_limited", "Rate limit exceeded", rid)
            response.headers["Retry-After"] = str(max(1, int(wait + 0.999)))
        else:
            self.starts.append(now)
            response = self._route(request, rid)
        remaining = max(0, self.limit - len(self.starts))
        reset = int(self.starts[0] + self.window - now + 0.999) if self.starts else 0
        response.headers.setdefault("X-Request-ID", rid)
        response.headers.setdefault("X-Rate-Limit-Limit", str(self.limit))
        response.headers.setdefault("X-Rate-Limit-Remaining", str(remaining))
        response.headers.setdefault("X-Rate-Limit-Reset", str(reset))
        return response

    def _route(self, request: httpx.Request, rid: str) -> httpx.Response:
        path = request.url.path.removeprefix("/v1")
        if path == "/search" and request.method == "POST":
            body = json.loads(request.content)
            if body.get("filters") and "advanced_filtering" not in self.features:
                return error(403, "feature_not_enabled", "Filtering is not in your plan", rid)
            return httpx.Response(
                200, json={**SEARCH_BODY, "request_id": rid, "query": body["query"]}
            )
        if path == "/suggestions":
            if "suggestions" not in self.features:
                return error(403, "forbidden", "Insufficient permissions", rid)
            limit = int(request.url.params.get("limit", 5))
            prefix = request.url.params["partial_query"]
            return httpx.Response(
                200,
                json={
                    "suggestions": [f"{prefix} thing {i}" for i in range(limit)],
                    "metadata": {"processing_time_ms": 45},
                },
            )
        if path == "/feedback":
            return httpx.Response(
                200,
                json={
                    "status": "success",
                    "feedback_id": "fb_987654321",
                    "message": "Thank you for your feedback!",
                },
            )
        if path == "/metadata/options":
            if "advanced_filtering" not in self.features:
                return error(403, "forbidden", "Insufficient permissions", rid)
            return httpx.Response(200, json=METADATA_OPTIONS)
        if path == "/session/status":
            return httpx.Response(
                200,
                json={
                    "authenticated": True,
                    "user_id": "usr_12345",
                    "session_expires_at": "2025-03-28T08:30:00Z",
                    "rate_limit": {
                        "limit": self.limit,
                        "remaining": self.limit - len(self.starts),
                        "reset_at": "2025-03-27T08:06:00Z",
                    },
                    "account_tier": "standard",
                    "features_enabled": sorted(self.features),
                },
            )
        return error(404, "not_found", "No such endpoint", rid)
