"""Both rate-limit header families and Retry-After parse into one RateLimitInfo."""

from __future__ import annotations

import email.utils

import httpx

from sdk_core import RateLimitInfo, parse_retry_after

NOW = 1_700_000_000.0


def test_nexthink_family() -> None:
    info = RateLimitInfo.from_headers(
        httpx.Headers(
            {"X-Rate-Limit": "100", "X-Rate-Limit-Remaining": "3", "X-Rate-Limit-Reset": "12"}
        ),
        now=NOW,
    )
    assert (info.limit, info.remaining, info.reset_after, info.retry_after) == (100, 3, 12.0, None)


def test_kubenexus_family_with_epoch_reset() -> None:
    info = RateLimitInfo.from_headers(
        httpx.Headers(
            {
                "X-RateLimit-Limit": "1000",
                "X-RateLimit-Remaining": "999",
                "X-RateLimit-Reset": str(int(NOW) + 30),
            }
        ),
        now=NOW,
    )
    assert (info.limit, info.remaining, info.reset_after) == (1000, 999, 30.0)


def test_absent_headers_give_an_empty_info() -> None:
    assert RateLimitInfo.from_headers(httpx.Headers({}), now=NOW).is_empty


def test_retry_after_forms() -> None:
    date = email.utils.formatdate(NOW + 5, usegmt=True)
    assert parse_retry_after(httpx.Headers({"Retry-After": "3"}), NOW) == 3.0
    assert parse_retry_after(httpx.Headers({"Retry-After": date}), NOW) == 5.0
    assert parse_retry_after(httpx.Headers({"retry-after-ms": "1500"}), NOW) == 1.5
    assert parse_retry_after(httpx.Headers({"Retry-After": "soon"}), NOW) is None
    assert parse_retry_after(httpx.Headers({}), NOW) is None
