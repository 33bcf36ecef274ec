"""Generic checks of arguments, before any request is sent.

``UUIDStr`` works in a pydantic model field and on its own; the checks take
any pydantic-checkable type (an API's own formats live in its client package,
such as nexthink_sdk's ``WindowsSID``)::

    check(value, UUIDStr, field="device_uid")           # returns value or raises
    check_each(values, UUIDStr, field="workflow_ids")   # names the bad index
    check_batch(items, field="operations", min_items=1, max_items=5000)

Failures raise :class:`InputValidationError` naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence, Sized
from typing import Annotated, Any, TypeVar

import pydantic
from pydantic import AfterValidator

from ._exceptions import InputValidationError

__all__ = [
    "UUIDStr",
    "matching",
    "check",
    "check_batch",
    "check_each",
    "input_error_from",
]

T = TypeVar("T")

UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


def matching(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    """A pydantic ``AfterValidator`` function: the value, or ``ValueError`` saying
    it is not ``what`` (for an API's own annotated string types)."""

    def validate(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return validate


UUIDStr = Annotated[
    str, AfterValidator(matching(UUID_RE, "a UUID (8-4-4-4-12 hexadecimal digits)"))
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
