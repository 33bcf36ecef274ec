"""A customer's view of the reference server.

    gateway-server demo --credentials-file creds.json &
    python examples/customer_portal.py creds.json

Lists the customer's devices page by page, opens a remediation session on one,
queues two commands that wait for approval, approves one and rejects the other,
and watches the live feed while the device works.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gateway_sdk import CommandUpdate, ConflictError, CustomerClient, DeviceClient


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("credentials")
    args = parser.parse_args()
    creds = json.loads(Path(args.credentials).read_text())
    base, token = creds["baseUrl"], creds["customerToken"]
    with CustomerClient(base, token) as portal:
        for device in portal.devices.list(page_size=2):
            print(f"device {device.id}: {device.status}")
        target = creds["devices"][1]
        try:
            session = portal.sessions.create(
                target["deviceId"], "remediation", description="printer stuck"
            )
        except ConflictError as exc:
            print(f"session exists already: {exc.message}")
            return 1
        restart = portal.sessions.enqueue(
            session.id, "restart_spooler", {"service": "spooler"}, priority=5
        )
        wipe = portal.sessions.enqueue(session.id, "clear_queue")
        print(f"queued {restart.type} and {wipe.type}: both {restart.status}")

        with portal.subscribe([target["deviceId"]]) as feed:
            print(f"approve {restart.type}: {portal.sessions.approve(session.id, restart.id)}")
            rejected = portal.sessions.reject(session.id, wipe.id, reason="not needed")
            print(f"reject {wipe.type}: {rejected}")
            with DeviceClient(base, target["deviceId"], target["deviceSecret"]) as worker:
                stats = worker.run(lambda c: f"{c.type} done", exit_when_idle=True)
            print(f"device completed {stats.completed} command(s)")
            for _ in range(6):
                event = feed.receive(timeout=5)
                if isinstance(event, CommandUpdate) and event.status == "completed":
                    print(f"live: {event.data['type']} completed")
                    break
        for command in portal.sessions.get(session.id).commands:
            print(f"  {command.type}: {command.status}")
        print(f"server {portal.system_info().version} ({portal.health().status})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
