"""The agent's I/O-free decisions: what a reconnect re-sends, a heal command taken
once, when to renew, the discovery order, the backoff, what a failure means,
and the configuration's precedence."""

from __future__ import annotations

import itertools
from pathlib import Path

import grpc
import pytest

from compliance_sdk._proto import compliance_pb2 as pb
from compliance_sdk.agent import AgentConfig
from compliance_sdk.agent._rules import (
    CommandLedger,
    Endpoint,
    Failure,
    Outbox,
    SrvTarget,
    choose_endpoints,
    order_srv,
    parse_address,
    reconnect_delay,
    renewal_at,
    renewal_retry_delay,
    retry_after,
    stream_failure,
    validate_drift,
)
from sdk_core import InputValidationError


def _event(check: str = "firewall", event_id: str = "") -> pb.DriftEvent:
    return pb.DriftEvent(check_type=check, passed=False, event_id=event_id)


def test_a_new_connection_resends_exactly_the_unacknowledged_events() -> None:
    box = Outbox()
    ids = [box.add(_event()) for _ in range(4)]
    assert len(set(ids)) == 4
    assert all(ids)
    # connection 1 sends everything, then two acks arrive
    first = box.after(0)
    assert [e.event_id for _, e in first] == ids
    cursor = first[-1][0] + 1
    assert box.ack(ids[0]) is not None
    assert box.ack(ids[2]) is not None
    new = box.add(_event("patches"))
    assert [e.event_id for _, e in box.after(cursor)] == [new]  # only the new one is unsent
    # the stream breaks: connection 2 starts at 0 and re-sends the unacknowledged, same ids
    assert [e.event_id for _, e in box.after(0)] == [ids[1], ids[3], new]
    assert box.ack(ids[1]) is not None
    assert box.ack(ids[1]) is None  # the re-sent event's second ack changes nothing
    assert box.pending_ids() == [ids[3], new]


def test_outbox_keeps_a_given_event_id_and_refuses_it_twice() -> None:
    box = Outbox(max_pending=2)
    assert box.add(_event(event_id="e-1")) == "e-1"
    with pytest.raises(InputValidationError, match="event_id"):
        box.add(_event(event_id="e-1"))
    box.add(_event())
    assert box.full()
    oldest = box.oldest()
    assert oldest is not None
    assert oldest.event_id == "e-1"
    with pytest.raises(InputValidationError, match="max_pending"):
        Outbox(0)


def test_a_command_is_taken_once_and_the_ledger_is_bounded() -> None:
    ledger = CommandLedger(capacity=2)
    assert ledger.take("c1")
    assert not ledger.take("c1")
    assert ledger.take("c2")
    assert ledger.take("c3")
    assert ledger.take("c1")  # forgotten once two newer ones came


def test_renewal_two_thirds_into_the_validity() -> None:
    day = 86400.0
    assert renewal_at(0.0, 365 * day) == pytest.approx(365 * day * 2 / 3)
    assert renewal_at(100.0, 100.0) == 100.0  # nonsense validity: renew at once


def test_parse_address() -> None:
    assert parse_address("appliance", field="a") == ("appliance", 50051)
    assert parse_address("appliance:7000", field="a") == ("appliance", 7000)
    assert parse_address("[fd00::1]:7000", field="a") == ("fd00::1", 7000)
    assert parse_address("fd00::1", field="a") == ("fd00::1", 50051)
    assert parse_address("h", field="a", default_port=50052) == ("h", 50052)
    for bad in ("", "h:0", "h:99999", "h:x", ":80", "[::1]x"):
        with pytest.raises(InputValidationError) as info:
            parse_address(bad, field="OSIRIS_APPLIANCE_ADDR")
        assert info.value.field == "OSIRIS_APPLIANCE_ADDR"


def test_srv_order_is_priority_then_weighted() -> None:
    records = [
        SrvTarget(20, 0, 1, "c."),
        SrvTarget(10, 1, 2, "a."),
        SrvTarget(10, 3, 3, "b."),
        SrvTarget(5, 0, 4, "."),  # "not available here": skipped
    ]
    assert [r.host for r in order_srv(records, lambda: 0.0)] == ["a.", "b.", "c."]
    assert [r.host for r in order_srv(records, lambda: 0.99)] == ["b.", "a.", "c."]
    # weight 3 of 4: b first about three times in four
    rolls = itertools.cycle([i / 100 for i in range(100)])
    firsts = [order_srv(records, lambda: next(rolls))[0].host for _ in range(100)]
    assert 70 <= firsts.count("b.") <= 80


def test_endpoint_order_and_duplicates() -> None:
    srv = [SrvTarget(10, 0, 50051, "appliance.clinic.test.")]
    found = choose_endpoints(
        srv=srv,
        env="appliance.clinic.test:50051",  # the same as SRV's: once
        config="file:1",
        enrolled="enrolled:2",
        rand=lambda: 0.0,
    )
    assert [(e.host, e.port, e.source) for e in found] == [
        ("appliance.clinic.test", 50051, "srv"),
        ("file", 1, "config"),
        ("enrolled", 2, "enrollment"),
    ]
    assert choose_endpoints(explicit="x:3", srv=srv, env="y", rand=lambda: 0.0) == [
        Endpoint("x", 3, "explicit")
    ]
    assert Endpoint("::1", 5, "env").target == "[::1]:5"
    assert choose_endpoints(rand=lambda: 0.0) == []


def test_backoff_is_full_jitter_with_a_ceiling() -> None:
    assert reconnect_delay(0, lambda: 1.0) == pytest.approx(0.5)
    assert reconnect_delay(3, lambda: 1.0) == pytest.approx(4.0)
    assert reconnect_delay(50, lambda: 1.0) == pytest.approx(30.0)
    assert reconnect_delay(3, lambda: 0.0) == 0.0
    assert renewal_retry_delay(0, lambda: 0.0) == 60.0
    assert renewal_retry_delay(0, lambda: 1.0) == 120.0
    assert renewal_retry_delay(20, lambda: 1.0) == 3660.0  # capped near an hour


def test_what_a_failure_means() -> None:
    assert stream_failure(grpc.StatusCode.UNAVAILABLE) is Failure.RETRY
    assert stream_failure(grpc.StatusCode.CANCELLED) is Failure.RETRY
    assert stream_failure(None) is Failure.RETRY  # the server closed the stream
    assert stream_failure(grpc.StatusCode.INVALID_ARGUMENT) is Failure.DROP_IN_FLIGHT
    assert stream_failure(grpc.StatusCode.UNAUTHENTICATED) is Failure.STOP
    assert stream_failure(grpc.StatusCode.PERMISSION_DENIED) is Failure.STOP


def test_drift_refused_before_queueing() -> None:
    validate_drift("firewall", {"k": "v"})
    with pytest.raises(InputValidationError) as info:
        validate_drift("antivirus", None)
    assert info.value.field == "check_type"
    with pytest.raises(InputValidationError, match="metadata"):
        validate_drift("firewall", {"k": 1})  # type: ignore[dict-item]


def test_config_precedence_flags_env_file_defaults(tmp_path: Path) -> None:
    file = tmp_path / "agent.toml"
    file.write_text(
        'state_dir = "/from/file"\nappliance_addr = "file-host:1"\nheartbeat_interval = 30\n'
        'domain = "file.test"\n'
    )
    env = {"COMPLIANCE_AGENT_STATE_DIR": "/from/env", "USERDNSDOMAIN": "env.test"}
    config = AgentConfig.load(file, env=env, domain="flag.test", hostname=None)
    assert config.state_dir == Path("/from/env")  # env over file
    assert config.domain == "flag.test"  # flag over env
    assert config.heartbeat_interval == 30.0  # file over default
    assert config.appliance_addr == "file-host:1"
    assert config.config_file == file
    assert config.hostname  # a None flag is "not given": the default
    via_env = AgentConfig.load(env={"COMPLIANCE_AGENT_CONFIG": str(file)})
    assert via_env.appliance_addr == "file-host:1"


def test_config_errors_name_the_setting(tmp_path: Path) -> None:
    file = tmp_path / "agent.toml"
    file.write_text('colour = "blue"\n')
    with pytest.raises(InputValidationError) as info:
        AgentConfig.load(file, env={})
    assert info.value.field == "colour"
    file.write_text("heartbeat_interval = 0\n")
    with pytest.raises(InputValidationError) as info:
        AgentConfig.load(file, env={})
    assert info.value.field == "heartbeat_interval"
    file.write_text("not toml [\n")
    with pytest.raises(InputValidationError) as info:
        AgentConfig.load(file, env={})
    assert info.value.field == "config_file"
    with pytest.raises(InputValidationError, match="does not exist"):
        AgentConfig.load(tmp_path / "missing.toml", env={})


def test_retry_after_is_read_from_the_trailing_metadata_when_sensible() -> None:
    assert retry_after((("retry-after", "37"),)) == 37.0
    assert retry_after((("other", "1"), ("retry-after", b"2.5"))) == 2.5
    for bad in ("soon", "-1", "nan", "inf"):
        assert retry_after((("retry-after", bad),)) is None
    assert retry_after(()) is None
    assert retry_after(None) is None
