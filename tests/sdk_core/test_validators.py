"""Generic checks of arguments: UUIDs, batches, any type as a plain check.

The Nexthink formats (SIDs, UPNs, NQL ids) moved to nexthink_sdk with issue 17;
their tests are tests/nexthink_sdk/test_validators.py."""

from __future__ import annotations

import pydantic
import pytest

from sdk_core import (
    BaseModel,
    InputValidationError,
    UUIDStr,
    check,
    check_batch,
    check_each,
    input_error_from,
)

U1 = "0f8fad5b-d9cb-469f-a165-70867728950e"
U2 = "7c9e6679-7425-40de-944b-e07fc1f90ae7"


@pytest.mark.parametrize(
    ("tp", "good", "bad"),
    [
        (UUIDStr, U1, "0f8fad5b-d9cb-469f-a165"),
        (UUIDStr, U2.upper(), U2 + "0"),
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
        check_each([U1, U2, "bob"], UUIDStr, field="devices")
    assert info.value.field == "devices[2]"


def test_check_each_refuses_a_bare_string() -> None:
    with pytest.raises(InputValidationError):
        check_each(U1, UUIDStr, field="devices")


def test_batch_bounds() -> None:
    check_batch([1], field="operations", min_items=1, max_items=5000)
    with pytest.raises(InputValidationError, match="operations: needs at least 1"):
        check_batch([], field="operations", min_items=1, max_items=5000)
    with pytest.raises(InputValidationError, match="takes at most 10000 items, got 10001"):
        check_batch(range(10_001), field="devices", max_items=10_000)


class Deletion(BaseModel):
    reason: str
    devices: list[UUIDStr]


def test_types_work_in_models_and_errors_name_the_field() -> None:
    Deletion(reason="retired", devices=[U1])
    with pytest.raises(pydantic.ValidationError) as info:
        Deletion(reason="retired", devices=[U1, "nope"])
    error = input_error_from(info.value)
    assert error.field == "devices[1]"
    assert "UUID" in error.message
