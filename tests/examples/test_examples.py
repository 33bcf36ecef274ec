"""Every example runs to completion and prints what it promises."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.examples.demo_server import demo_server
from tests.gateway_support import free_port

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# the examples that take the demo's credentials file (the others read the environment)
DEMO_FILE_EXAMPLES = (
    "device_worker.py",
    "customer_portal.py",
    "compliance_dashboard.py",
    "compliance_agent.py",
)


def grpc_flags() -> tuple[list[str], str]:
    """The demo's agent channel on free ports: its flags, and the enrollment
    address the agent example reads from COMPLIANCE_AGENT_ENROLLMENT_ADDR."""
    agent, enrollment = free_port(), free_port()
    flags = ["--grpc-enabled", "--grpc-agent-port", str(agent)]
    return [*flags, "--grpc-enrollment-port", str(enrollment)], f"127.0.0.1:{enrollment}"


def run(name: str, *args: str, env: dict[str, str] | None = None) -> str:
    """The example's standard output; it must exit 0."""
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
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
    flags, enrollment = grpc_flags()
    with demo_server(tmp_path, *flags) as creds:
        worker = run("device_worker.py", creds["file"])
        assert "demo-device-1: heartbeat ok, 3 pending" in worker
        assert "running collect_logs (priority 5)" in worker
        assert "done: 3 completed, 0 failed, 0 lost" in worker
        portal = run("customer_portal.py", creds["file"])
        assert "device demo-device-3: provisioned" in portal
        assert "approve restart_spooler: approved" in portal
        assert "live: restart_spooler completed" in portal
        assert "clear_queue: rejected" in portal
        dashboard = run("compliance_dashboard.py", creds["file"])
        assert "logged in as demo-admin (admin)" in dashboard
        assert "site Riverside Family Clinic: 3/3 agents online" in dashboard
        assert "open incidents: 3, more pages: True" in dashboard
        assert "resolved by agent, execution succeeded (HTTP 200, request id present)" in dashboard
        assert (
            "promoted 'screenlock: expected locks after 900 s, actual never locks' (3 successes)"
            in dashboard
        )
        assert "escalated: delivery not_configured" in dashboard
        assert "viewer may not resolve: INSUFFICIENT_ROLE" in dashboard
        # the demo's credentials say where agents enroll (and its printed environment)
        assert creds["compliance"]["agentEnrollmentAddress"] == enrollment
        assert creds["environment"]["COMPLIANCE_AGENT_ENROLLMENT_ADDR"] == enrollment
        agent = run("compliance_agent.py", creds["file"])
        assert "enrolled: tier SELF_HEAL, files ['0o600']" in agent
        assert "heal command: enable_firewall for firewall" in agent
        assert "acknowledged: 2 drift, 1 healing" in agent
        assert "incident FRONTDESK-07 firewall (high): resolved=True by agent" in agent
        assert "fleet: FRONTDESK-07 online, 2 drift, 1 healing, RMM: ScreenConnect" in agent


def test_every_example_runs_against_the_demo_with_emulators(tmp_path: Path) -> None:
    """`bash scripts/demo --emulate all`, and every example as it is: the vendor
    quickstarts find the emulators through the variables the demo prints."""
    flags, enrollment = grpc_flags()
    demo = ("--emulate", "all", "--nexthink-export-seconds", "1", *flags)
    with demo_server(tmp_path, *demo) as creds:
        assert creds["environment"]["COMPLIANCE_AGENT_ENROLLMENT_ADDR"] == enrollment
        env = {**os.environ, **creds["emulators"]}
        out = {}
        for example in sorted(EXAMPLES.glob("*.py")):
            # the gateway's examples take the credentials file; the others, the environment
            args = [creds["file"]] if example.name in DEMO_FILE_EXAMPLES else []
            out[example.name] = run(example.name, *args, env=env)
    assert set(out) >= {*DEMO_FILE_EXAMPLES, "nexthink_quickstart.py", "kubenexus_quickstart.py"}
    assert "LAPTOP-1: 3 crashes" in out["nexthink_quickstart.py"]
    assert "resolved=True by agent" in out["compliance_agent.py"]
    assert "export COMPLETED" in out["nexthink_quickstart.py"]
    assert "enrichment: HTTP 207, 1 applied, 1 failed" in out["nexthink_quickstart.py"]
    assert "GHOST-9: Object GHOST-9 not found" in out["nexthink_quickstart.py"]
    assert "page 1: ['prod-01', 'prod-02']" in out["kubenexus_quickstart.py"]
    assert "cluster 1 healthy=True nodes=3/3" in out["kubenexus_quickstart.py"]
    assert "feedback fb_" in out["exasperation_quickstart.py"]
    assert "Password Reset Detection Use Case" in out["exasperation_quickstart.py"]
    assert "done: 3 completed, 0 failed, 0 lost" in out["device_worker.py"]
