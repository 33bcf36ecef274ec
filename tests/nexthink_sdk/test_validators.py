"""The Nexthink formats (moved from sdk_core): SIDs as the document gives them, UPNs, NQL ids."""

from __future__ import annotations

import pydantic
import pytest

from nexthink_sdk import UPN, InputValidationError, NQLQueryId, WindowsSID
from sdk_core import BaseModel, check, check_each, input_error_from


@pytest.mark.parametrize(
    ("tp", "good", "bad"),
    [
        (WindowsSID, "S-1-5-21-1004336348-1177238915-682003330-512", "S-1"),
        # The document's ^S(-\d+){2,10}$: any revision, 2 to 10 groups.
        (WindowsSID, "S-2-5-21", "S-1-5-21-1-2-3-4-5-6-7-8"),
        (WindowsSID, "S-1-5", "s-1-5-18"),
        (WindowsSID, "S-1-5-18", "S-1-5-"),
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


def test_ten_groups_is_the_most() -> None:
    ten = "S" + "-1" * 10
    assert check(ten, WindowsSID, field="sid") == ten
    with pytest.raises(InputValidationError):
        check(ten + "-1", WindowsSID, field="sid")


def test_check_each_names_the_index() -> None:
    with pytest.raises(InputValidationError) as info:
        check_each(["S-1-5-18", "S-1-5-19", "bob"], WindowsSID, field="user_sids")
    assert info.value.field == "user_sids[2]"


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
