"""Formats the APIs require: as pydantic field types and as plain checks."""

from __future__ import annotations

import pydantic
import pytest

from sdk_core import (
    UPN,
    BaseModel,
    InputValidationError,
    NQLQueryId,
    UUIDStr,
    WindowsSID,
    check,
    check_batch,
    check_each,
    input_error_from,
)


@pytest.mark.parametrize(
    ("tp", "good", "bad"),
    [
        (UUIDStr, "0f8fad5b-d9cb-469f-a165-70867728950e", "0f8fad5b-d9cb-469f-a165"),
        (WindowsSID, "S-1-5-21-1004336348-1177238915-682003330-512", "S-2-5-21"),
        (WindowsSID, "S-1-5-18", "S-1"),
        (WindowsSID, "S-1-5", "S-1-5-21-1-2-3-4-5-6-7-8"),
        (UPN, "ada.lovelace@example.com", "ada.lovelace"),
        (NQLQueryId, "#get_devices_2", "get_devices"),
        (NQLQueryId, "#ok", "#A_upper"),
    ],
)
def test_good_and_bad_values(tp: object, good: str, bad: str) -> None:
    assert check(good, tp, field="value") == good
    with pytest.raises(InputValidationError) as info:
        check(bad, tp, field="value")
    assert info.value.field == "value"
    assert repr(bad) in info.value.message


def test_check_each_names_the_index() -> None:
    with pytest.raises(InputValidationError) as info:
        check_each(["S-1-5-18", "S-1-5-19", "bob"], WindowsSID, field="user_sids")
    assert info.value.field == "user_sids[2]"


def test_check_each_refuses_a_bare_string() -> None:
    with pytest.raises(InputValidationError):
        check_each("S-1-5-18", WindowsSID, field="user_sids")


def test_batch_bounds() -> None:
    check_batch([1], field="operations", min_items=1, max_items=5000)
    with pytest.raises(InputValidationError, match="operations: needs at least 1"):
        check_batch([], field="operations", min_items=1, max_items=5000)
    with pytest.raises(InputValidationError, match="takes at most 10000 items, got 10001"):
        check_batch(range(10_001), field="devices", max_items=10_000)


class Trigger(BaseModel):
    campaign_id: NQLQueryId
    users: list[WindowsSID]


def test_types_work_in_models_and_errors_name_the_field() -> None:
    Trigger(campaign_id="#welcome", users=["S-1-5-18"])
    with pytest.raises(pydantic.ValidationError) as info:
        Trigger(campaign_id="#welcome", users=["S-1-5-18", "nope"])
    error = input_error_from(info.value)
    assert error.field == "users[1]"
    assert "Windows SID" in error.message
