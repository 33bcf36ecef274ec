"""The committed stubs of contracts/compliance.proto: the addendum's field numbers and
types exactly (deployed Go agents depend on them), our additions only at new numbers,
the document's older RegisterRequest numbering still parsing, and the service working
over a real grpc.aio server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from compliance_sdk._proto import compliance_pb2 as pb
from compliance_sdk._proto import compliance_pb2_grpc as pb_grpc

_SCALARS = {
    FieldDescriptor.TYPE_STRING: "string",
    FieldDescriptor.TYPE_BYTES: "bytes",
    FieldDescriptor.TYPE_BOOL: "bool",
    FieldDescriptor.TYPE_INT32: "int32",
    FieldDescriptor.TYPE_INT64: "int64",
}


def _kind(field: FieldDescriptor) -> str:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        entry = field.message_type
        assert entry is not None
        if entry.GetOptions().map_entry:
            key, value = entry.fields_by_name["key"], entry.fields_by_name["value"]
            return f"map<{_kind(key)}, {_kind(value)}>"
        name = entry.name
    elif field.type == FieldDescriptor.TYPE_ENUM:
        assert field.enum_type is not None
        name = field.enum_type.name
    else:
        name = _SCALARS[field.type]
    return f"repeated {name}" if field.is_repeated else name


def _fields(message: Descriptor) -> dict[str, tuple[int, str]]:
    return {f.name: (f.number, _kind(f)) for f in message.fields}


# shared/specs/README.md, "Addendum: compliance platform", field for field. Where the
# addendum gives no type, the one chosen (and documented in the .proto) is pinned too.
ADDENDUM: dict[str, dict[str, tuple[int, str]]] = {
    "RegisterRequest": {
        "hostname": (1, "string"),
        "os_version": (2, "string"),
        "agent_version": (3, "string"),
        "installed_software": (4, "repeated string"),
        "mac_address": (5, "string"),
        "needs_certificates": (6, "bool"),
    },
    "RegisterResponse": {
        "agent_id": (1, "string"),
        "check_interval_seconds": (2, "int32"),
        "enabled_checks": (3, "repeated string"),
        "capability_tier": (4, "CapabilityTier"),
        "check_config": (5, "map<string, string>"),
        "ca_cert_pem": (6, "bytes"),
        "agent_cert_pem": (7, "bytes"),
        "agent_key_pem": (8, "bytes"),
    },
    "DriftEvent": {
        "agent_id": (1, "string"),
        "hostname": (2, "string"),
        "check_type": (3, "string"),
        "passed": (4, "bool"),
        "expected": (5, "string"),
        "actual": (6, "string"),
        "hipaa_control": (7, "string"),
        "timestamp": (8, "int64"),
        "metadata": (9, "map<string, string>"),
    },
    "DriftAck": {
        "event_id": (1, "string"),
        "received": (2, "bool"),
        "error": (3, "string"),
        "heal_command": (4, "HealCommand"),
    },
    "HealCommand": {
        "command_id": (1, "string"),
        "check_type": (2, "string"),
        "action": (3, "string"),
        "params": (4, "map<string, string>"),
        "timeout_seconds": (5, "int64"),
    },
    "HealingResult": {
        "agent_id": (1, "string"),
        "hostname": (2, "string"),
        "check_type": (3, "string"),
        "success": (4, "bool"),
        "error_message": (5, "string"),
        "timestamp": (6, "int64"),
        "artifacts": (7, "map<string, string>"),
        "command_id": (8, "string"),
    },
    "HealingAck": {"event_id": (1, "string"), "received": (2, "bool")},
    "HeartbeatRequest": {
        "agent_id": (1, "string"),
        "timestamp": (2, "int64"),
        "drift_count": (3, "int64"),
        "healing_count": (4, "int64"),
        "agent_version": (5, "string"),
    },
    "HeartbeatResponse": {
        "acknowledged": (1, "bool"),
        "config_changed": (2, "bool"),
        "pending_commands": (3, "repeated HealCommand"),
        "update_available": (4, "bool"),
        "update_version": (5, "string"),
        "update_url": (6, "string"),
        "update_sha256": (7, "string"),
    },
    "RMMStatusReport": {
        "agent_id": (1, "string"),
        "hostname": (2, "string"),
        "detected_agents": (3, "repeated RMMAgent"),
        "timestamp": (4, "int64"),
    },
    "RMMAgent": {
        "name": (1, "string"),
        "version": (2, "string"),
        "running": (3, "bool"),
        "service_name": (4, "string"),
    },
    "RMMAck": {"received": (1, "bool")},
}

# What this project added (issue 19 and the contract brief), each past the addendum's
# highest number in its message.
ADDED: dict[str, dict[str, tuple[int, str]]] = {
    "RegisterRequest": {"enrollment_token": (7, "string"), "csr_pem": (8, "bytes")},
    "RegisterResponse": {
        "site_id": (9, "string"),
        "certificate_expires_at": (10, "int64"),
        "agent_address": (11, "string"),
    },
    "DriftEvent": {"event_id": (10, "string")},
    "HealingResult": {"event_id": (9, "string")},
}


@pytest.mark.parametrize("name", sorted(ADDENDUM))
def test_every_message_has_the_addendums_fields_and_ours_only_at_new_numbers(name: str) -> None:
    fields = _fields(pb.DESCRIPTOR.message_types_by_name[name])
    assert fields == {**ADDENDUM[name], **ADDED.get(name, {})}
    highest = max(number for number, _ in ADDENDUM[name].values())
    assert all(number > highest for number, _ in ADDED.get(name, {}).values())


def test_no_message_beyond_the_addendums() -> None:
    assert set(pb.DESCRIPTOR.message_types_by_name) == set(ADDENDUM)


def test_capability_tier_values() -> None:
    tiers = pb.DESCRIPTOR.enum_types_by_name["CapabilityTier"]
    assert {v.name: v.number for v in tiers.values} == {
        "MONITOR_ONLY": 0,
        "SELF_HEAL": 1,
        "FULL_REMEDIATION": 2,
    }


def test_the_service_as_the_document_defines_it() -> None:
    service = pb.DESCRIPTOR.services_by_name["ComplianceAgent"]
    assert service.full_name == "compliance.ComplianceAgent"
    methods = {
        m.name: (m.input_type.name, m.output_type.name, m.client_streaming, m.server_streaming)
        for m in service.methods
    }
    assert methods == {
        "Register": ("RegisterRequest", "RegisterResponse", False, False),
        "ReportDrift": ("DriftEvent", "DriftAck", True, True),
        "ReportHealing": ("HealingResult", "HealingAck", False, False),
        "Heartbeat": ("HeartbeatRequest", "HeartbeatResponse", False, False),
        "ReportRMMStatus": ("RMMStatusReport", "RMMAck", False, False),
    }


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _string_field(number: int, value: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def test_a_register_request_in_the_documents_numbering_still_parses() -> None:
    """The spec document's RegisterRequest has mac_address = 4 (string) and
    capability = 5 (an enum, a varint); the addendum's, which we keep, has
    installed_software = 4 and mac_address = 5 (a string)."""
    wire = (
        _string_field(1, b"ws-01")
        + _string_field(4, b"aa:bb:cc:dd:ee:ff")  # the document's mac_address
        + _varint(5 << 3 | 0)
        + _varint(2)  # the document's capability = FULL_REMEDIATION
        + _varint(6 << 3 | 0)
        + _varint(1)  # needs_certificates
    )
    request = pb.RegisterRequest.FromString(wire)
    assert request.hostname == "ws-01"
    assert list(request.installed_software) == ["aa:bb:cc:dd:ee:ff"]
    assert request.mac_address == ""  # field 5 came with another wire type
    assert request.needs_certificates is True
    # kept as an unknown field, not dropped: it goes back out as it came in
    assert _varint(5 << 3 | 0) + _varint(2) in request.SerializeToString()


def test_added_fields_are_invisible_to_an_agent_that_does_not_know_them() -> None:
    """An old agent parsing a new RegisterResponse sees the addendum's fields intact;
    here the 'old agent' is the same message with our additions stripped off."""
    response = pb.RegisterResponse(
        agent_id="7a8c1e2e-3f4b-4c5d-8e9f-0a1b2c3d4e5f",
        check_interval_seconds=300,
        capability_tier=pb.SELF_HEAL,
        ca_cert_pem=b"-----BEGIN CERTIFICATE-----",
        site_id="0b7f6a52-3a0e-4a51-9d2c-1f8e7c6b5a49",
        certificate_expires_at=1_800_000_000,
        agent_address="appliance.clinic.example:50051",
    )
    old = pb.RegisterResponse.FromString(response.SerializeToString())
    assert set(ADDED["RegisterResponse"]) == {"site_id", "certificate_expires_at", "agent_address"}
    old.ClearField("site_id")
    old.ClearField("certificate_expires_at")
    old.ClearField("agent_address")
    assert old == pb.RegisterResponse(
        agent_id=response.agent_id,
        check_interval_seconds=300,
        capability_tier=pb.SELF_HEAL,
        ca_cert_pem=response.ca_cert_pem,
    )


class _Echo(pb_grpc.ComplianceAgentServicer):
    """Just enough of a servicer to prove the generated code carries calls both ways."""

    async def Register(
        self, request: pb.RegisterRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> pb.RegisterResponse:
        return pb.RegisterResponse(agent_id=f"agent-{request.hostname}")

    async def ReportDrift(
        self,
        request_iterator: AsyncIterator[pb.DriftEvent],
        context: grpc.aio.ServicerContext[object, object],
    ) -> AsyncIterator[pb.DriftAck]:
        async for event in request_iterator:
            heal = None
            if not event.passed:
                heal = pb.HealCommand(command_id=f"c-{event.event_id}", check_type=event.check_type)
            yield pb.DriftAck(event_id=event.event_id, received=True, heal_command=heal)

    async def ReportHealing(
        self, request: pb.HealingResult, context: grpc.aio.ServicerContext[object, object]
    ) -> pb.HealingAck:
        return pb.HealingAck(event_id=request.event_id, received=True)

    async def Heartbeat(
        self, request: pb.HeartbeatRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> pb.HeartbeatResponse:
        return pb.HeartbeatResponse(acknowledged=request.drift_count > 0)

    async def ReportRMMStatus(
        self, request: pb.RMMStatusReport, context: grpc.aio.ServicerContext[object, object]
    ) -> pb.RMMAck:
        return pb.RMMAck(received=len(request.detected_agents) == 1)


async def test_the_stubs_carry_every_rpc_over_a_real_server() -> None:
    server = grpc.aio.server()
    pb_grpc.add_ComplianceAgentServicer_to_server(_Echo(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.ComplianceAgentStub(channel)  # typed as the async stub
            registered = await stub.Register(pb.RegisterRequest(hostname="ws-01"))
            assert registered.agent_id == "agent-ws-01"

            events = [
                pb.DriftEvent(event_id="e-1", check_type="firewall", passed=False),
                pb.DriftEvent(event_id="e-2", check_type="bitlocker", passed=True),
            ]

            async def send() -> AsyncIterator[pb.DriftEvent]:
                for event in events:
                    yield event

            acks = [ack async for ack in stub.ReportDrift(send())]
            assert [(a.event_id, a.received) for a in acks] == [("e-1", True), ("e-2", True)]
            assert acks[0].HasField("heal_command")
            assert acks[0].heal_command.command_id == "c-e-1"
            assert not acks[1].HasField("heal_command")

            healed = await stub.ReportHealing(pb.HealingResult(event_id="h-1", success=True))
            assert (healed.event_id, healed.received) == ("h-1", True)
            beat = await stub.Heartbeat(pb.HeartbeatRequest(drift_count=2))
            assert beat.acknowledged is True
            rmm = await stub.ReportRMMStatus(
                pb.RMMStatusReport(detected_agents=[pb.RMMAgent(name="ConnectWise")])
            )
            assert rmm.received is True
    finally:
        await server.stop(grace=None)
