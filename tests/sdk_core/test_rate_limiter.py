"""The client-side rate limiter: a sliding window, a cap on requests in flight, and the server's word."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest

from sdk_core import RateLimiter
from tests.support import FakeClock


def test_sliding_window_spaces_requests(clock: FakeClock) -> None:
    limiter = RateLimiter(3, 10.0, None, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(7):
        limiter.acquire()
        starts.append(clock.now - 1_000.0)
        limiter.release()
    assert starts == [0, 0, 0, 10, 10, 10, 20]


def test_no_burst_across_a_window_boundary(clock: FakeClock) -> None:
    limiter = RateLimiter(2, 10.0, None, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.release()
    clock.advance(9)
    for _ in range(2):
        limiter.acquire()
        limiter.release()
    # the third start waits for the first (t=0) to leave the window at t=10
    assert clock.now - 1_000.0 == 10


def test_server_remaining_caps_starts_until_reset(clock: FakeClock) -> None:
    limiter = RateLimiter(60, 60.0, None, clock=clock, sleep=clock.sleep)
    limiter.observe(httpx.Headers({"X-Rate-Limit-Remaining": "1", "X-Rate-Limit-Reset": "30"}))
    limiter.acquire()
    limiter.release()
    assert clock.sleeps == []
    limiter.acquire()
    limiter.release()
    assert clock.sleeps == [30.0]


def test_a_429_holds_everyone_until_its_wait_passed(clock: FakeClock) -> None:
    limiter = RateLimiter(60, 60.0, None, clock=clock, sleep=clock.sleep)
    limiter.observe(httpx.Headers({"Retry-After": "12"}), status_code=429)
    limiter.acquire()
    assert clock.sleeps == [12.0]


def test_a_lower_server_limit_replaces_ours(clock: FakeClock) -> None:
    limiter = RateLimiter(100, 60.0, None, clock=clock, sleep=clock.sleep)
    limiter.observe(httpx.Headers({"X-RateLimit-Limit": "30"}))
    assert limiter.max_requests == 30


def test_threads_never_exceed_max_concurrent() -> None:
    limiter = RateLimiter(1000, 60.0, 3)
    lock = threading.Lock()
    current = peak = 0

    def work() -> None:
        nonlocal current, peak
        limiter.acquire()
        with lock:
            current += 1
            peak = max(peak, current)
        time.sleep(0.005)
        with lock:
            current -= 1
        limiter.release()

    threads = [threading.Thread(target=work) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == 3
    assert limiter.in_flight == 0


async def test_tasks_never_exceed_max_concurrent() -> None:
    limiter = RateLimiter(1000, 60.0, 4)
    current = peak = 0

    async def work() -> None:
        nonlocal current, peak
        await limiter.aacquire()
        current += 1
        peak = max(peak, current)
        await asyncio.sleep(0.002)
        current -= 1
        await limiter.arelease()

    await asyncio.gather(*(work() for _ in range(30)))
    assert peak == 4
    assert limiter.in_flight == 0


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0)
    with pytest.raises(ValueError):
        RateLimiter(10, max_concurrent=0)
