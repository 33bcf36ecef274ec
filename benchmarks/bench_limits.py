"""The gateway's rate limiter with many keys: time per hit and memory held.

Keys of the auth-attempt limiter come from unauthenticated requests (device
ids, client addresses), so an attacker chooses how many there are. Each row
drives one limiter (the server's default ``max_keys``, 100,000) with N
distinct keys in one window, then times 20,000 more hits on new keys there
(the attacker's case: every hit a key the table has not seen) and prints
microseconds per hit, as a ratio against N = 1,000 measured in the same run,
the keys the table holds after the N, and the memory it holds at the end
(tracemalloc, a separate pass; the 1,000 row then holds its 60,000 timed keys).

Issue 16 measured the limiter it replaced at 16 ms per hit at 100,000 keys.

    python benchmarks/bench_limits.py [--sizes 1000 100000 1000000]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

from gateway_server.edge import RateLimiter

TIMED = 20_000


def _fill(n: int) -> tuple[RateLimiter, int, float]:
    """A limiter after ``n`` distinct keys in one window, the keys it then
    holds, and the seconds per hit of ``TIMED`` more new keys (the best of
    three batches)."""
    limiter = RateLimiter(10, 60.0, lambda: 1_000_000.0)
    for i in range(n):
        limiter.hit(f"device:{i}|203.0.113.{i % 256}")
    held = len(limiter)
    best = float("inf")
    for batch in range(3):
        keys = [f"new:{batch}:{i}" for i in range(TIMED)]
        started = time.perf_counter()
        for key in keys:
            limiter.hit(key)
        best = min(best, (time.perf_counter() - started) / TIMED)
    return limiter, held, best


def _memory(n: int) -> int:
    tracemalloc.start()
    limiter, _, _ = _fill(n)
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del limiter
    return held


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000, 1_000_000])
    sizes = parser.parse_args().sizes
    baseline = None
    print(f"{'keys sent':>10} {'us/hit':>8} {'ratio':>6} {'keys held':>10} {'MiB held':>9}")
    for n in sizes:
        limiter, held, per_hit = _fill(n)
        del limiter
        baseline = baseline or per_hit
        mib = _memory(n) / 2**20
        ratio = per_hit / baseline
        print(f"{n:>10,} {per_hit * 1e6:>8.2f} {ratio:>5.2f}x {held:>10,} {mib:>9.1f}")


if __name__ == "__main__":
    main()
