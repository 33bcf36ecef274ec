"""Batch results answered 200, 207 or 400: a partial success is never a success."""

from __future__ import annotations

import pytest

from sdk_core import ItemError, MultiStatusError, MultiStatusResult


def result(status: int, failed_keys: list[str]) -> MultiStatusResult[dict[str, str]]:
    items = [{"name": n} for n in ["a", "b", "c", "d", "e"]]
    failures = [(k, [ItemError("unknown device", code="NOT_FOUND")]) for k in failed_keys]
    return MultiStatusResult.from_failures(
        items, failures, key=lambda i: i["name"], status_code=status
    )


def test_207_with_three_of_five_failing() -> None:
    r = result(207, ["b", "d", "e"])
    assert r.is_partial
    assert not r.ok
    assert [i["name"] for i in r.succeeded] == ["a", "c"]
    assert [f.item["name"] for f in r.failed] == ["b", "d", "e"]
    assert r.failed[0].errors[0].code == "NOT_FOUND"
    with pytest.raises(MultiStatusError) as info:
        r.raise_for_failures()
    assert str(info.value).startswith("3 of 5 items failed (HTTP 207): unknown device")
    assert len(info.value.failed) == 3


def test_200_all_succeeded() -> None:
    r = result(200, [])
    assert r.ok
    assert not r.is_partial
    assert len(r.succeeded) == 5
    r.raise_for_failures()


def test_400_fails_every_item_even_unlisted_ones() -> None:
    r = result(400, ["a"])
    assert not r.succeeded
    assert not r.is_partial
    assert len(r.failed) == 5
    assert r.failed[1].message == "not applied: the batch was refused"


def test_failure_for_an_unknown_item_is_kept_apart() -> None:
    r = result(207, ["zzz", "b"])
    assert [f.item["name"] for f in r.failed] == ["b"]  # items sent, and only those
    assert [(u.key, u.message) for u in r.unmatched] == [("zzz", "unknown device")]
    assert len(r.succeeded) == 4
    assert not r.ok
    with pytest.raises(MultiStatusError, match=r"^1 of 5 items failed and 1 failures named keys"):
        r.raise_for_failures()


def test_only_unmatched_failures_still_mean_not_ok() -> None:
    r = result(207, ["zzz"])
    assert len(r.succeeded) == 5
    assert not r.failed
    assert not r.ok
    assert r.is_partial
    with pytest.raises(MultiStatusError, match="1 failures named keys no item has"):
        r.raise_for_failures()
