"""A compliance agent on a managed machine, against the reference server.

    gateway-server demo --credentials-file creds.json &
    python examples/compliance_agent.py creds.json

As the partner's admin (REST client) it makes a site that may self-heal and an
enrollment token for it. Then, as the machine: enrolls (its own key, a CSR,
the CA pinned by the token's fingerprint; key and certificates saved 0600),
registers a heal handler, starts the agent (mutual TLS), reports a passing
BitLocker check and a firewall that is off. The server opens an incident and
answers with a heal command; the handler "turns the firewall on", the result
goes back, and the incident is resolved. Back as the admin, it reads the
incident and the agent's fleet line (heartbeat counts, RMM report).

The enrollment address is the demo's (``agentEnrollmentAddress`` in its
credentials), else ``--enrollment-address`` or ``COMPLIANCE_AGENT_ENROLLMENT_ADDR``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from compliance_sdk import ComplianceClient
from compliance_sdk.agent import AgentConfig, ComplianceAgent, HealCommand, HealOutcome, RMMAgent

SITE = "Example Clinic (agent)"
HOST = "FRONTDESK-07"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("credentials")
    parser.add_argument(
        "--enrollment-address", default=os.environ.get("COMPLIANCE_AGENT_ENROLLMENT_ADDR")
    )
    args = parser.parse_args()
    creds = json.loads(Path(args.credentials).read_text())
    demo = creds["compliance"]
    args.enrollment_address = args.enrollment_address or demo.get("agentEnrollmentAddress")
    if not args.enrollment_address:
        parser.error("give --enrollment-address (the server's --grpc-enrollment-port)")
    with ComplianceClient(
        creds["baseUrl"], username=demo["username"], password=demo["password"]
    ) as admin:
        site = next((s for s in admin.sites.list() if s.name == SITE), None)
        if site is None:
            site = admin.sites.create(name=SITE, capability_tier="self_heal")
        token = admin.sites.create_enrollment_token(site.id, max_uses=1, expires_in_seconds=600)
        pin = token.ca_fingerprint_sha256
        print(f"token {token.token_prefix}... for site {site.name}, CA {pin[:16]}...")

        state_dir = Path(tempfile.mkdtemp(prefix="compliance-agent-"))
        config = AgentConfig(
            state_dir=state_dir,
            hostname=HOST,
            enrollment_addr=args.enrollment_address,
            heartbeat_interval=1,
        )
        with ComplianceAgent(config) as agent:
            identity = agent.enroll(
                token.token, token.ca_fingerprint_sha256, ca_pem=token.ca_cert_pem
            )
            modes = sorted({oct(p.stat().st_mode & 0o777) for p in state_dir.iterdir()})
            print(f"enrolled: tier {identity.state.capability_tier}, files {modes}")

            @agent.on_heal
            def heal(command: HealCommand) -> HealOutcome:  # a worker thread runs it
                print(f"heal command: {command.action} for {command.check_type}")
                return HealOutcome(True, artifacts={"netsh": "State ON"})

            agent.start()
            agent.report_drift("bitlocker", True, expected="on", actual="on")
            agent.report_drift(
                "firewall", False, expected="enabled", actual="disabled",
                metadata={"profile": "domain"},
            )  # fmt: skip
            agent.report_rmm([RMMAgent("ScreenConnect", "23.9.8", True, "ScreenConnect Client")])
            agent.wait_idle(timeout=30)  # drift acknowledged, the heal ran and was reported
            agent.heartbeat()
            agent_id = agent.agent_id
            counts = agent.agent.drift_count, agent.agent.healing_count
            print(f"acknowledged: {counts[0]} drift, {counts[1]} healing")

        incident = admin.incidents.list(site_id=site.id, check_type="firewall").items[0]
        detail = admin.incidents.get(incident.id)
        print(
            f"incident {detail.hostname} {detail.check_type} ({detail.severity}): "
            f"resolved={detail.resolved} by {detail.resolved_by}"
        )
        line = admin.fleet.agent(agent_id)
        rmm = ", ".join(a.name for a in line.rmm.agents) if line.rmm else "none"
        print(
            f"fleet: {line.hostname} {line.status}, {line.drift_count} drift, "
            f"{line.healing_count} healing, RMM: {rmm}"
        )


if __name__ == "__main__":
    main()
