"""Attacks on the limits: keys that grow the limiter's table without end, and
answers or messages larger or more frequent than a caller is allowed.

Each test names the finding of issue 16 it closes."""

from __future__ import annotations

from gateway_server.edge import RateLimiter
from tests.gateway_support import Clock


def test_f7_a_flood_of_new_keys_cannot_grow_the_limiter_without_bound() -> None:
    """Finding 7: bodies of unauthenticated requests choose the limiter's keys
    (device ids, addresses); the table holds at most ``max_keys`` whatever
    arrives, and a key counted in this window keeps counting meanwhile."""
    clock = Clock()
    limiter = RateLimiter(3, 60.0, clock, max_keys=1000)
    for _ in range(3):
        assert limiter.hit("device:real").allowed
    assert not limiter.hit("device:real").allowed
    for i in range(5000):
        limiter.hit(f"device:flood-{i}")
        assert len(limiter) <= 1000
    # The oldest keys go first: the real key was evicted by the flood and
    # starts again (a limit can only loosen under a flood, never deny).
    assert limiter.hit("device:real").remaining == 2
    assert limiter.hit("device:flood-4999").remaining == 1
    clock.advance(60)  # the next window starts empty
    assert limiter.hit("device:other").remaining == 2
    assert len(limiter) == 1


def test_f7_the_window_keeps_its_counts_below_the_bound() -> None:
    clock = Clock()
    limiter = RateLimiter(2, 60.0, clock, max_keys=10)
    for key in "abcde":
        limiter.hit(key)
    assert [limiter.hit(k).allowed for k in "abcde"] == [True] * 5
    assert [limiter.hit(k).allowed for k in "abcde"] == [False] * 5
    verdict = limiter.hit("a")
    assert verdict.remaining == 0
    assert verdict.reset_at == (clock() // 60 + 1) * 60
