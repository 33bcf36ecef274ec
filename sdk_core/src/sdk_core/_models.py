"""The base of every response model: pydantic v2, forward compatible."""

from __future__ import annotations

from typing import Any

import pydantic

__all__ = ["BaseModel"]


class BaseModel(pydantic.BaseModel):
    """Keeps fields the server adds after this SDK was released.

    Unknown fields stay reachable as attributes and in ``model_extra``; they
    are never rejected. Fields may be filled by their wire alias or by name.
    """

    model_config = pydantic.ConfigDict(
        extra="allow",
        populate_by_name=True,
        protected_namespaces=(),
    )

    def to_dict(self, *, by_alias: bool = True, exclude_none: bool = False) -> dict[str, Any]:
        """The model as plain JSON-ready data (wire names by default)."""
        return self.model_dump(mode="json", by_alias=by_alias, exclude_none=exclude_none)

    def to_json(
        self,
        *,
        indent: int | None = 2,
        by_alias: bool = True,
        exclude_none: bool = False,
    ) -> str:
        """The model as a JSON string (wire names by default), unknown fields included."""
        return self.model_dump_json(indent=indent, by_alias=by_alias, exclude_none=exclude_none)
