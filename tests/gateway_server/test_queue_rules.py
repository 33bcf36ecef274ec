"""The queue's rules as I/O-free decisions, without a database (device_gateway/_rules.py)."""

from __future__ import annotations

import pytest

from gateway_server.device_gateway import _errors as errors
from gateway_server.device_gateway._rules import (
    CommandState,
    DeviceState,
    check_extend,
    check_new_session,
    check_owner,
    check_registration,
    check_session_open,
    claim_deadline,
    customer_status,
    decide,
    device_status,
    exhausted,
    initial_state,
    online_since,
    refused_result,
)

NOW = 1_000.0
P = CommandState.PENDING


def test_a_pending_command_is_claimed_while_its_claim_lives() -> None:
    assert customer_status(P, None, NOW) == "pending"
    assert customer_status(P, NOW + 0.001, NOW) == "claimed"
    assert customer_status(P, NOW, NOW) == "pending"  # ran out exactly now: claimable
    for state in CommandState:
        if state is not P:
            assert customer_status(state, NOW + 10, NOW) == state.value


def test_claim_deadlines_are_in_milliseconds() -> None:
    assert claim_deadline(NOW, 300_000) == NOW + 300
    assert claim_deadline(NOW, 1) == NOW + 0.001


def test_dead_letter_when_claimed_max_claims_times() -> None:
    assert not exhausted(4, 5)
    assert exhausted(5, 5)
    assert exhausted(6, 5)


def test_extend_needs_the_current_token_and_a_live_claim() -> None:
    check_extend(P, True, NOW + 1, NOW)
    with pytest.raises(errors.InvalidClaimToken):
        check_extend(P, False, NOW + 1, NOW)
    with pytest.raises(errors.InvalidClaimToken):
        check_extend(CommandState.COMPLETED, True, None, NOW)
    with pytest.raises(errors.ClaimExpired):
        check_extend(P, True, NOW, NOW)  # the deadline itself is too late
    with pytest.raises(errors.ClaimExpired):
        check_extend(P, True, None, NOW)


def test_why_a_result_was_not_taken() -> None:
    refused_result(CommandState.COMPLETED, True)  # a replay: answered as success again
    with pytest.raises(errors.AlreadyCompleted):
        refused_result(CommandState.COMPLETED, False)
    with pytest.raises(errors.InvalidClaimToken):
        refused_result(P, False)
    with pytest.raises(errors.InvalidClaimToken):
        refused_result(CommandState.DEAD_LETTER, True)
    with pytest.raises(errors.ClaimExpired):
        refused_result(P, True)  # right token, claim ran out


def test_remediation_waits_for_approval_and_a_decision_is_final() -> None:
    assert initial_state("remediation") is CommandState.AWAITING_APPROVAL
    assert initial_state("diagnostic") is P
    assert decide(CommandState.AWAITING_APPROVAL, True, "awaiting_approval") is P
    assert decide(CommandState.AWAITING_APPROVAL, False, "x") is CommandState.REJECTED
    for state in (P, CommandState.REJECTED, CommandState.COMPLETED):
        with pytest.raises(errors.AlreadyProcessed, match=r"\(claimed\)"):
            decide(state, True, "claimed")


def test_sessions() -> None:
    check_session_open(NOW + 1, NOW)
    with pytest.raises(errors.SessionExpired):
        check_session_open(NOW, NOW)
    check_new_session(DeviceState.ACTIVE, None)
    with pytest.raises(errors.DeviceNotActive, match="provisioned"):
        check_new_session(DeviceState.PROVISIONED, None)
    with pytest.raises(errors.SessionExists) as caught:
        check_new_session(DeviceState.ACTIVE, "s-1")
    assert caught.value.details == {"sessionId": "s-1"}


def test_registration_once_with_an_unexpired_code() -> None:
    check_registration(DeviceState.PROVISIONED, NOW + 1, True, NOW)
    with pytest.raises(errors.DeviceAlreadyRegistered):
        check_registration(DeviceState.ACTIVE, NOW + 1, True, NOW)
    with pytest.raises(errors.ActivationCodeExpired):
        check_registration(DeviceState.PROVISIONED, NOW, True, NOW)
    with pytest.raises(errors.ActivationCodeExpired):  # expiry is told before a wrong code
        check_registration(DeviceState.PROVISIONED, None, False, NOW)
    with pytest.raises(errors.InvalidActivationCode):
        check_registration(DeviceState.PROVISIONED, NOW + 1, False, NOW)


def test_a_customer_reaches_only_its_own() -> None:
    check_owner("cust-a", "cust-a", "device")
    with pytest.raises(errors.Unknown, match="device not found"):
        check_owner(None, "cust-a", "device")
    with pytest.raises(errors.NotOwned, match="session not owned by customer"):
        check_owner("cust-b", "cust-a", "session")


def test_online_is_three_heartbeat_intervals() -> None:
    since = online_since(NOW, 30_000)
    assert since == NOW - 90
    assert device_status("active", since, "busy", NOW, 30_000) == "busy"
    assert device_status("active", since - 0.001, "busy", NOW, 30_000) == "offline"
    assert device_status("active", NOW, None, NOW, 30_000) == "online"
    assert device_status("active", None, None, NOW, 30_000) == "offline"
    assert device_status("suspended", NOW, "online", NOW, 30_000) == "suspended"


def test_every_domain_error_answers_with_a_status_of_its_kind() -> None:
    from gateway_server.edge import status_of

    assert status_of(errors.Unknown("device")) == 404
    assert status_of(errors.DeviceNotProvisioned("x")) == 404
    assert status_of(errors.NotOwned("session")) == 403
    assert status_of(errors.ClaimExpired("x")) == 403
    assert status_of(errors.AlreadyCompleted("x")) == 409
    assert status_of(errors.InvalidActivationCode("x")) == 401
    assert errors.NotOwned("session").message == "session not owned by customer"
    assert errors.ClaimExpired("x").code == "CLAIM_EXPIRED"
