"""Discovery: DNS SRV ``_osiris-grpc._tcp.<domain>`` against a stub resolver on
127.0.0.1 (real UDP, dnspython's resolver pointed at it), then
``OSIRIS_APPLIANCE_ADDR``, then the config file, then the enrolled address."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance_sdk.agent import AgentConfig, AgentIdentity, AgentState, AsyncComplianceAgent
from compliance_sdk.agent._discovery import asrv_targets, srv_targets
from compliance_sdk.agent._rules import Endpoint, SrvTarget
from tests.compliance_sdk.agent_support import issue, make_ca, stub_resolver

SRV = {
    "_osiris-grpc._tcp.clinic.test.": [
        (20, 0, 50061, "backup.clinic.test."),
        (10, 0, 50051, "appliance.clinic.test."),
    ]
}


def test_srv_records_from_a_stub_resolver() -> None:
    with stub_resolver(SRV) as dns_server:
        found = srv_targets("clinic.test", nameservers=["127.0.0.1"], port=dns_server.port)
    assert sorted(found, key=lambda r: r.priority) == [
        SrvTarget(10, 0, 50051, "appliance.clinic.test."),
        SrvTarget(20, 0, 50061, "backup.clinic.test."),
    ]
    assert dns_server.questions == ["_osiris-grpc._tcp.clinic.test."]


async def test_srv_records_async_and_missing_ones_are_empty() -> None:
    with stub_resolver(SRV) as dns_server:
        found = await asrv_targets("clinic.test.", nameservers=["127.0.0.1"], port=dns_server.port)
        missing = await asrv_targets("other.test", nameservers=["127.0.0.1"], port=dns_server.port)
        missing_sync = srv_targets("other.test", nameservers=["127.0.0.1"], port=dns_server.port)
    assert {r.port for r in found} == {50051, 50061}
    assert missing == missing_sync == []
    assert await asrv_targets(None) == []


def test_an_unreachable_resolver_is_no_srv_record() -> None:
    # a port nothing answers on: the lookup times out and discovery falls through
    assert srv_targets("clinic.test", nameservers=["127.0.0.1"], port=9, timeout=0.3) == []


def _enrolled(state_dir: Path, agent_address: str) -> None:
    ca = make_ca()
    leaf = issue(ca, "agent")
    AgentIdentity(
        leaf.key_pem, leaf.cert_pem, ca.cert_pem, AgentState("a-1", agent_address=agent_address)
    ).save(state_dir)


async def test_the_agent_tries_srv_then_env_then_file_then_enrollment(tmp_path: Path) -> None:
    _enrolled(tmp_path, "10.0.0.9:50051")
    with stub_resolver(SRV) as dns_server:
        config = AgentConfig(
            state_dir=tmp_path,
            domain="clinic.test",
            appliance_addr="file-host:7000",
            dns_nameservers=("127.0.0.1",),
            dns_port=dns_server.port,
        )
        agent = AsyncComplianceAgent(config, environ={"OSIRIS_APPLIANCE_ADDR": "env-host"})
        endpoints = await agent.discover()
    assert endpoints == [
        Endpoint("appliance.clinic.test", 50051, "srv"),
        Endpoint("backup.clinic.test", 50061, "srv"),
        Endpoint("env-host", 50051, "env"),
        Endpoint("file-host", 7000, "config"),
        Endpoint("10.0.0.9", 50051, "enrollment"),
    ]


async def test_without_a_domain_there_is_no_lookup(tmp_path: Path) -> None:
    _enrolled(tmp_path, "10.0.0.9:50051")
    with stub_resolver(SRV) as dns_server:
        agent = AsyncComplianceAgent(AgentConfig(state_dir=tmp_path), environ={})
        endpoints = await agent.discover()
    assert dns_server.questions == []
    assert endpoints == [Endpoint("10.0.0.9", 50051, "enrollment")]


@pytest.mark.parametrize("explicit", ["127.0.0.1:6000", "[::1]:6000"])
async def test_an_explicit_address_skips_discovery(tmp_path: Path, explicit: str) -> None:
    _enrolled(tmp_path, "10.0.0.9:50051")
    with stub_resolver(SRV) as dns_server:
        config = AgentConfig(
            state_dir=tmp_path,
            address=explicit,
            domain="clinic.test",
            dns_nameservers=("127.0.0.1",),
            dns_port=dns_server.port,
        )
        endpoints = await AsyncComplianceAgent(config, environ={}).discover()
    assert [e.port for e in endpoints] == [6000]
    assert endpoints[0].source == "explicit"
