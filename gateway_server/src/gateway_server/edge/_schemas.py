"""The base of request bodies and the value types they are made of.

Constraints are ``Annotated`` types, so that models read as the contract
does and type-check without exceptions: ``Text[1, 200]`` is not
expressible, but ``Annotated[str, Len(1, 200)]`` is, under a name.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from collections.abc import Iterator
from typing import Annotated, Any, ClassVar, Self

import annotated_types
import pydantic

__all__ = ["Body", "JsonInt", "JsonValue", "Timestamp", "text"]

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)
_NOT_A_TIMESTAMP = "must be an RFC 3339 date-time, e.g. 2024-06-01T10:00:00Z"


class Body(pydantic.BaseModel):
    """Exactly the documented fields, strictly typed; an optional field is
    left out, not sent as null (unless the contract allows null there).
    Strict numbers: an integer is a valid float, a boolean or a string is
    not, and neither is a number JSON cannot write back (``1e400``)."""

    model_config = pydantic.ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    nullable: ClassVar[frozenset[str]] = frozenset()

    @pydantic.model_validator(mode="after")
    def _no_nulls(self) -> Self:
        # After validation, on the fields the caller sent: a field sent holds
        # None only if it was sent as null. (A "before" validator here made
        # pydantic build a dict from the JSON first, on every request.)
        for name in self.model_fields_set:
            if getattr(self, name) is None and name not in self.nullable:
                raise ValueError(f"{name}: must not be null (leave it out instead)")
        return self


def _timestamp(value: str) -> str:
    """An RFC 3339 date-time that names a real instant (leap second allowed)."""
    if not _RFC3339.match(value):
        raise ValueError(_NOT_A_TIMESTAMP)
    text = value[:10] + "T" + value[11:]
    text = text[:-1] + "+00:00" if text[-1] in "Zz" else text
    if text[17:19] == "60":  # a leap second is valid RFC 3339; datetime cannot hold it
        text = text[:17] + "59" + text[19:]
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(_NOT_A_TIMESTAMP) from None
    return value


def _json_int(value: Any) -> Any:
    """JSON Schema's integer: any number with no fractional part (``5.0`` too)."""
    if isinstance(value, float) and not isinstance(value, bool) and value.is_integer():
        return int(value)
    return value


def _finite(value: Any) -> Any:
    """Free-form JSON whose numbers JSON can write back: ``1e400`` parses as
    infinity, which would be stored and then break every answer showing it."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError("numbers must be finite")
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return value


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


@dataclasses.dataclass(frozen=True)
class _Text(annotated_types.GroupedMetadata):
    constraints: pydantic.StringConstraints

    def __iter__(self) -> Iterator[object]:
        yield from self.constraints
        yield pydantic.AfterValidator(_no_nul)


def text(min_length: int = 0, max_length: int | None = None, pattern: str | None = None) -> Any:
    """The constraints of a string field, for ``Annotated[str, text(1, 200)]``;
    never a NUL character, which PostgreSQL's text cannot store (refused alike
    on every backend; free-form JSON such as command parameters is kept as
    JSON text, where NUL is written escaped)."""
    return _Text(
        pydantic.StringConstraints(min_length=min_length, max_length=max_length, pattern=pattern)
    )


JsonInt = Annotated[int, pydantic.BeforeValidator(_json_int)]
JsonValue = Annotated[Any, pydantic.AfterValidator(_finite)]
Timestamp = Annotated[str, text(max_length=64), pydantic.AfterValidator(_timestamp)]
