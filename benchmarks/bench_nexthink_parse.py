"""Parse rate of a 1,000-row NQL v2 result into models, against json.loads alone.

The SDK validates the body with pydantic straight from bytes
(``NqlResultV2.model_validate_json``); the baseline only decodes the JSON.
Prints both rates and the ratio. Target: at most 3x.

    python benchmarks/bench_nexthink_parse.py [--rows 1000] [--rounds 30]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from nexthink_sdk import NqlResultV2


def body(rows: int) -> bytes:
    data = [
        {
            "device.name": f"LAPTOP-{i:05d}",
            "device.operating_system.name": "Windows 11 Pro 23H2 (64 bits)",
            "device.entity": "Paris",
            "device.hardware.memory": 17_179_869_184,
            "number_of_crashes": i % 7,
            "average_boot_duration": 41.7 + i % 13,
            "last_seen": "2024-06-01T10:00:00",
            "is_virtual": i % 2 == 0,
        }
        for i in range(rows)
    ]
    return json.dumps(
        {
            "queryId": "#device_health",
            "executedQuery": "devices | list ...",
            "rows": rows,
            "executionDateTime": "2024-06-01T10:00:00",
            "data": data,
        }
    ).encode()


def timed(fn: object, raw: bytes, repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn(raw)  # type: ignore[operator]
    return (time.perf_counter() - start) / repeat


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    raw = body(args.rows)
    result = NqlResultV2.model_validate_json(raw)
    assert len(result.data) == args.rows

    baseline, sdk = [], []
    for _ in range(args.rounds):
        baseline.append(timed(json.loads, raw, 10))
        sdk.append(timed(NqlResultV2.model_validate_json, raw, 10))
    b, s = statistics.median(baseline), statistics.median(sdk)
    print(f"{args.rows}-row v2 body ({len(raw) / 1024:.0f} KiB)")
    print(f"json.loads alone        : {b * 1e3:7.3f} ms  ({args.rows / b:,.0f} rows/s)")
    print(f"NqlResultV2 (pydantic)  : {s * 1e3:7.3f} ms  ({args.rows / s:,.0f} rows/s)")
    print(f"ratio model/json.loads  : {s / b:.2f}x (target <= 3x)")


if __name__ == "__main__":
    main()
