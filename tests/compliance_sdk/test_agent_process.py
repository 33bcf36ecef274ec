"""The agent against ``gateway-server serve`` as a process: the blocking
``ComplianceAgent`` enrolls, reports drift, and keeps reporting while the server
process is killed (SIGKILL, mid-stream) and started again on the same data
directory and ports. Every event is applied exactly once: the incident's
occurrence count, read through the REST client, is the number of events."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from compliance_sdk import ComplianceClient
from compliance_sdk.agent import AgentConfig, ComplianceAgent
from tests.gateway_support import ServerProcess, free_port

SECRET = "agent-process-secret-" + "z" * 24
PASSWORD = "correct horse battery staple"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    data = tmp_path / "data"
    done = subprocess.run(
        [sys.executable, "-m", "gateway_server._cli", "create-user", "--data-dir", str(data),
         "--username", "ops-admin", "--role", "admin", "--partner", "Ops MSP"],
        input=PASSWORD, text=True, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    ports = ("--grpc-agent-port", str(free_port()), "--grpc-enrollment-port", str(free_port()))
    proc = ServerProcess(data, SECRET, "--grpc-enabled", *ports)
    proc.start()
    yield proc
    proc.stop()


def test_the_stream_survives_a_killed_server_with_nothing_lost_or_doubled(
    server: ServerProcess, tmp_path: Path
) -> None:
    agent_port = int(server.extra[server.extra.index("--grpc-agent-port") + 1])
    enrollment_port = int(server.extra[server.extra.index("--grpc-enrollment-port") + 1])
    with ComplianceClient(server.url, username="ops-admin", password=PASSWORD) as client:
        # monitor only: no heal command resolves the incident, so one incident counts them all
        site = client.sites.create(name="Killed Clinic", capability_tier="monitor_only")
        token = client.sites.create_enrollment_token(site.id)
        config = AgentConfig(
            state_dir=tmp_path / "agent",
            hostname="PC-K",
            enrollment_addr=f"127.0.0.1:{enrollment_port}",
            heartbeat_interval=0.5,
        )
        with ComplianceAgent(config, environ={}) as agent:
            agent.enroll(token.token, token.ca_fingerprint_sha256, ca_pem=token.ca_cert_pem)
            assert agent.identity.state.agent_address == f"127.0.0.1:{agent_port}"
            agent.start()
            sent = [agent.report_drift("firewall", False, actual=f"off {i}") for i in range(10)]
            agent.wait_acked(20)
            # a burst, and the server killed while it is in flight: some events are
            # applied with their ack lost, some sent and never read, some never sent
            sent += [
                agent.report_drift("firewall", False, actual=f"off {i}") for i in range(10, 40)
            ]
            server.stop()
            sent += [
                agent.report_drift("firewall", False, actual=f"off {i}") for i in range(40, 50)
            ]
            assert agent.pending_events  # the server is down: they wait
            server.start()
            agent.wait_acked(60)
            assert agent.pending_events == []
            assert agent.agent.connections >= 2
            assert agent.agent.rejected == []
            assert agent.heartbeat().acknowledged  # its counts, seen in the fleet view below
            agent_id = agent.agent_id
        assert len(set(sent)) == 50
        (incident,) = client.incidents.list(site_id=site.id).items
        detail = client.incidents.get(incident.id)
        assert detail.drift.occurrences == 50  # none lost, none applied twice
        assert detail.drift.actual == "off 49"  # and in order
        seen = client.fleet.agent(agent_id)
        assert seen.drift_count == 50
        assert seen.last_checkin is not None


def test_the_cli_enrolls_then_runs_a_plugin(server: ServerProcess, tmp_path: Path) -> None:
    enrollment_port = server.extra[server.extra.index("--grpc-enrollment-port") + 1]
    with ComplianceClient(server.url, username="ops-admin", password=PASSWORD) as client:
        site = client.sites.create(name="CLI Clinic", capability_tier="self_heal")
        token = client.sites.create_enrollment_token(site.id)
        ca_file = tmp_path / "ca.pem"
        ca_file.write_text(token.ca_cert_pem)
        config = tmp_path / "agent.toml"
        config.write_text(
            f'state_dir = "{tmp_path / "state"}"\nhostname = "CLI-PC"\n'
            f'enrollment_addr = "127.0.0.1:{enrollment_port}"\n'
        )
        cli = [sys.executable, "-m", "compliance_sdk.agent._cli"]
        env = {**os.environ, "COMPLIANCE_AGENT_CONFIG": str(config)}
        env.pop("COMPLIANCE_ENROLLMENT_TOKEN", None)
        enrolled = subprocess.run(
            [*cli, "enroll", "--ca-fingerprint", token.ca_fingerprint_sha256,
             "--ca-file", str(ca_file)],
            input=token.token + "\n", env=env, text=True, capture_output=True, timeout=60,
            check=False,
        )  # fmt: skip
        assert enrolled.returncode == 0, enrolled.stderr
        assert enrolled.stdout.startswith("enrolled: agent ")
        assert token.token not in enrolled.stdout + enrolled.stderr
        ran = subprocess.run(
            [*cli, "run", "--plugin", "tests.compliance_sdk.agent_plugin:start",
             "--heartbeat-interval", "0.5"],
            env=env, text=True, capture_output=True, timeout=60, check=False,
        )  # fmt: skip
        assert ran.returncode == 0, ran.stderr
        assert "plugin: 1 drift, 1 healing" in ran.stdout
        (incident,) = client.incidents.list(site_id=site.id).items
        assert incident.hostname == "CLI-PC"
        assert incident.resolved
