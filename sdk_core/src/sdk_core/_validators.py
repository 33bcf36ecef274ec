"""Formats the APIs require, as annotated types and as plain checks.

Each type works in a pydantic model field (``user: UPN``) and on its own::

    check(value, WindowsSID, field="user_sid")       # returns value or raises
    check_each(values, UUIDStr, field="workflow_ids")  # names the bad index
    check_batch(items, field="operations", min_items=1, max_items=5000)

Failures raise :class:`InputValidationError` naming the field, before any
request is sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence, Sized
from typing import Annotated, Any, TypeVar

import pydantic
from pydantic import AfterValidator

from ._exceptions import InputValidationError

__all__ = [
    "UPN",
    "NQLQueryId",
    "UUIDStr",
    "WindowsSID",
    "check",
    "check_batch",
    "check_each",
    "input_error_from",
]

T = TypeVar("T")

UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
SID_RE = re.compile(r"^S-1(-\d{1,14}){1,9}$")
UPN_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
NQL_QUERY_ID_RE = re.compile(r"^#[a-z0-9_]{2,255}$")


def _matching(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    def validate(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return validate


UUIDStr = Annotated[
    str, AfterValidator(_matching(UUID_RE, "a UUID (8-4-4-4-12 hexadecimal digits)"))
]
WindowsSID = Annotated[
    str,
    AfterValidator(
        _matching(SID_RE, "a Windows SID like S-1-5-21-1004336348-1177238915-682003330-512")
    ),
]
UPN = Annotated[
    str, AfterValidator(_matching(UPN_RE, "a user principal name like user@example.com"))
]
NQLQueryId = Annotated[
    str,
    AfterValidator(_matching(NQL_QUERY_ID_RE, "an NQL query id: '#' then 2 to 255 of a-z, 0-9, _")),
]

_adapters: dict[Any, pydantic.TypeAdapter[Any]] = {}


def _adapter(tp: Any) -> pydantic.TypeAdapter[Any]:
    key = id(tp)
    adapter = _adapters.get(key)
    if adapter is None:
        adapter = _adapters[key] = pydantic.TypeAdapter(tp)
    return adapter


def _loc(field: str, loc: Sequence[int | str]) -> str:
    out = field
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def input_error_from(exc: pydantic.ValidationError, field: str = "") -> InputValidationError:
    """The first error of a pydantic failure as an :class:`InputValidationError`."""
    first = exc.errors()[0]
    message = str(first.get("msg", "invalid value"))
    message = message.removeprefix("Value error, ")
    name = _loc(field, first.get("loc", ()))
    return InputValidationError(name or "input", message, value=first.get("input"))


def check(value: Any, tp: Any, *, field: str) -> Any:
    """``value`` validated (and coerced) as ``tp``, or :class:`InputValidationError`."""
    try:
        return _adapter(tp).validate_python(value)
    except pydantic.ValidationError as exc:
        raise input_error_from(exc, field) from None


def check_each(values: Sequence[Any], tp: Any, *, field: str) -> list[Any]:
    """Every element validated as ``tp``; the error names ``field[index]``."""
    if isinstance(values, (str, bytes)):
        raise InputValidationError(field, "must be a list, not a single string", value=values)
    return [check(v, tp, field=f"{field}[{i}]") for i, v in enumerate(values)]


def check_batch(
    items: Sized, *, field: str, min_items: int = 1, max_items: int | None = None
) -> None:
    """A batch size within ``min_items..max_items``."""
    n = len(items)
    if n < min_items:
        raise InputValidationError(field, f"needs at least {min_items} item(s), got {n}")
    if max_items is not None and n > max_items:
        raise InputValidationError(field, f"takes at most {max_items} items, got {n}")
