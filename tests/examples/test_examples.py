"""Every example runs to completion and prints what it promises."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(name: str, *args: str) -> str:
    """The example's standard output; it must exit 0."""
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_sdk_core_quickstart() -> None:
    out = run("sdk_core_quickstart.py")
    assert "cluster 7: prod-eu (active), extra fields: {'nodes': 12}" in out
    assert "request id req-42, retries 1, rate limit 98/100" in out
    assert "typed error: NotFoundError code=CLUSTER_NOT_FOUND" in out


def test_package_readme_examples_run() -> None:
    """The runnable example in each package README runs as written."""
    root = EXAMPLES.parent
    readmes = sorted(root.glob("*/README.md"))
    assert readmes
    for readme in readmes:
        for block in re.findall(r"```python\n(.*?)```", readme.read_text(), re.S):
            if "# not run" in block:
                continue
            done = subprocess.run(
                [sys.executable, "-c", block],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert done.returncode == 0, f"{readme}: {done.stderr}"


def test_exasperation_quickstart_demo() -> None:
    out = run("exasperation_quickstart.py", "--demo")
    assert "answer (req_0001): It watches Windows event 4724" in out
    assert "suggestions unavailable: the key lacks 'suggestions'" in out
    assert "refused before sending: filters: created_after (2025-02-01)" in out
    assert "10 searches in" in out


def test_nexthink_quickstart_demo() -> None:
    out = run("nexthink_quickstart.py", "--demo")
    assert "LAPTOP-1: 3 crashes" in out
    assert "export COMPLETED" in out
    assert "export streamed to disk: 42 bytes" in out
    assert "enrichment: HTTP 207, 1 applied, 1 failed" in out
    assert "GHOST-9: Object not found" in out
    assert "refused before sending: devices[0]" in out


def test_kubenexus_quickstart_demo() -> None:
    out = run("kubenexus_quickstart.py", "--demo")
    assert "page 1: ['prod-01', 'prod-02', 'prod-03']" in out
    assert "page 3: ['prod-07']" in out
    assert "cluster 1 healthy=True nodes=3/3" in out
    assert "refused before sending: cloud_provider_id: is required for cluster_type 'eks'" in out
    assert "webhook alert.triggered: AlertTriggeredEvent" in out


def test_gateway_examples_against_gateway_server_demo(tmp_path: Path) -> None:
    import socket
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    creds = tmp_path / "creds.json"
    server = subprocess.Popen(
        [sys.executable, "-m", "gateway_server._cli", "demo", "--port", str(port),
         "--data-dir", str(tmp_path / "data"), "--credentials-file", str(creds)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if (
                    httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
                    and creds.exists()
                ):
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "demo server did not start"
            time.sleep(0.2)
        worker = run("device_worker.py", str(creds))
        assert "demo-device-1: heartbeat ok, 3 pending" in worker
        assert "running collect_logs (priority 5)" in worker
        assert "done: 3 completed, 0 failed, 0 lost" in worker
        portal = run("customer_portal.py", str(creds))
        assert "device demo-device-3: provisioned" in portal
        assert "approve restart_spooler: approved" in portal
        assert "live: restart_spooler completed" in portal
        assert "clear_queue: rejected" in portal
        dashboard = run("compliance_dashboard.py", str(creds))
        assert "logged in as demo-admin (admin)" in dashboard
        assert "site Riverside Family Clinic: 3/3 agents online" in dashboard
        assert "open incidents: 3" in dashboard
        assert "resolved by agent, execution succeeded" in dashboard
        assert (
            "promoted 'screenlock: expected locks after 900 s, actual never locks' (3 successes)"
            in dashboard
        )
        assert "escalated: delivery not_configured" in dashboard
        assert "viewer may not resolve: INSUFFICIENT_ROLE" in dashboard
    finally:
        server.terminate()
        server.wait(30)
