"""A device worker against the reference server.

    gateway-server demo --credentials-file creds.json &      # prints credentials too
    python examples/device_worker.py creds.json [--max-commands N]

Registers nothing: it uses a demo device's id and secret, asks the gateway
whether it is ready (no credentials needed), sends a heartbeat, then works the
device's command queue with ``DeviceClient.run``: claim, run the handler while
the claim is extended in the background, submit the result. The id and secret
may come from ``GATEWAY_DEVICE_ID`` / ``GATEWAY_DEVICE_SECRET`` instead.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time
from pathlib import Path

from gateway_sdk import ClaimedCommand, DeviceClient


def handle(command: ClaimedCommand) -> dict[str, object]:
    """What this device does with each command type."""
    if command.type == "ping":
        return {"pong": True}
    if command.type == "disk_usage":
        return {"free_gb": 41.5, "used_pct": 58}
    if command.type == "collect_logs":
        time.sleep(0.2)  # pretend to gather files
        return {"files": ["system.log", "agent.log"], "host": socket.gethostname()}
    raise ValueError(f"unsupported command type {command.type!r}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "credentials", help="the JSON written by gateway-server demo --credentials-file"
    )
    parser.add_argument("--max-commands", type=int, default=None)
    args = parser.parse_args()
    creds = json.loads(Path(args.credentials).read_text())
    device = creds["devices"][0]
    with DeviceClient(creds["baseUrl"], device["deviceId"], device["deviceSecret"]) as client:
        ready = client.readiness()
        print(f"gateway {client.version()}: {'ready' if ready.ready else 'not ready'}")
        beat = client.heartbeat("online", metrics={"cpu": 0.12, "memory": 0.4, "uptime": 3600})
        print(f"{device['deviceId']}: heartbeat ok, {beat.pending_commands} pending")
        stats = client.run(
            lambda c: (print(f"  running {c.type} (priority {c.priority})"), handle(c))[1],
            visibility_timeout_ms=30_000,
            max_commands=args.max_commands,
            exit_when_idle=True,
        )
        print(f"done: {stats.completed} completed, {stats.failed} failed, {stats.lost} lost")
    return 0


if __name__ == "__main__":
    sys.exit(main())
