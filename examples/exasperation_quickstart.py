"""EXASPERATION search from Python.

    EXASPERATION_API_KEY=... python examples/exasperation_quickstart.py
    python examples/exasperation_quickstart.py --demo     # offline, against a stand-in

Searches with filters, prints the answer and its sources, asks for
suggestions, rates the answer, and shows the client-side rate limiter at work
on a burst of searches. ``--demo`` swaps the network for an in-process
stand-in of the service (the same rules: 60 a minute, request ids, features).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time

import httpx

from exasperation_sdk import ExasperationClient, FeatureNotEnabledError, InputValidationError


def stand_in() -> httpx.Client:
    """An in-process imitation of the service: enough to run this example offline."""
    ids = itertools.count(1)

    def answer(request: httpx.Request) -> httpx.Response:
        rid = f"req_{next(ids):04d}"
        headers = {"X-Request-ID": rid, "X-Rate-Limit-Limit": "60"}
        path = request.url.path
        if path.endswith("/search"):
            query = json.loads(request.content)["query"]
            body = {
                "request_id": rid,
                "query": query,
                "answer": "It watches Windows event 4724 (an attempt to reset a password).",
                "sources": [
                    {
                        "id": "doc_123",
                        "title": "Password Reset Detection Use Case",
                        "url": "https://docs.exabeam.com/use-cases/password-reset-detection",
                        "relevance_score": 0.92,
                        "metadata": {"vendor": "microsoft", "document_type": "use_case"},
                    }
                ],
                "suggested_queries": ["How do I configure password reset alerting?"],
                "metadata": {"processing_time_ms": 235, "total_matches": 27},
            }
            return httpx.Response(200, json=body, headers=headers)
        if path.endswith("/suggestions"):
            body = {"error": {"code": "forbidden", "message": "suggestions are not in this plan"}}
            return httpx.Response(403, json=body, headers=headers)
        if path.endswith("/feedback"):
            body = {"status": "success", "feedback_id": "fb_1", "message": "Thanks!"}
            return httpx.Response(200, json=body, headers=headers)
        return httpx.Response(404, json={"error": {"code": "not_found", "message": path}})

    return httpx.Client(transport=httpx.MockTransport(answer))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--demo", action="store_true", help="run offline against a stand-in")
    args = parser.parse_args()
    if args.demo:
        client = ExasperationClient(api_key="demo-key", http_client=stand_in())
    else:
        client = ExasperationClient()  # EXASPERATION_API_KEY, EXASPERATION_BASE_URL

    with client:
        result = client.search(
            "How does the password reset detection rule work?",
            filters={"vendors": ["microsoft"], "created_after": "2024-01-01"},
            max_results=5,
            rerank=True,
        )
        print(f"answer ({result.request_id}): {result.answer}")
        for source in result.sources:
            print(f"  {source.relevance_score:.2f}  {source.title}  {source.url}")
        print(f"try next: {result.suggested_queries}")

        try:
            client.suggestions("How do")
        except FeatureNotEnabledError as exc:
            print(f"suggestions unavailable: the key lacks {exc.feature!r}")

        try:
            client.search(
                "q", filters={"created_after": "2025-02-01", "created_before": "2024-01-01"}
            )
        except InputValidationError as exc:
            print(f"refused before sending: {exc}")

        fb = client.feedback(result.request_id or "", "positive", comments="Spot on")
        print(f"feedback {fb.feedback_id}: {fb.message}")

        started = time.monotonic()
        for i in range(10):
            client.search(f"burst question {i}")
        in_flight = client.rate_limiter.max_concurrent if client.rate_limiter else None
        print(
            f"10 searches in {time.monotonic() - started:.2f}s under the limiter "
            f"(60/min, {in_flight} in flight)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
