"""Nexthink's NQL, as the emulator runs it, I/O-free: saved queries over the
seeded tables, with typed parameters, and their answers as v1 (headers and
value arrays), v2 (objects) and CSV.

A saved query (the seed's ``queries``) names a table, the fields it lists,
its conditions, each on a field and a value or a ``$parameter``, and the
NQL text it stands for::

    "#crashes": {"nql": "devices during past $days d | where crashes > 0 | list ...",
                 "table": "devices", "fields": ["device.name", "crashes"],
                 "parameters": {"days": {"type": "number", "default": 30}},
                 "where": [{"field": "days_since_crash", "op": "<=", "value": "$days"},
                           {"field": "crashes", "op": ">", "value": 0}]}
"""

from __future__ import annotations

import csv
import io
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from ..._errors import InvalidInput, NotFound

__all__ = ["SavedQuery", "Tables", "csv_text"]

Row = dict[str, Any]
Scalar = str | int | float | bool

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "contains": lambda a, b: str(b).lower() in str(a).lower(),
}
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "boolean": (bool,),
}


def _typed(name: str, kind: str, value: Scalar) -> Scalar:
    allowed = _TYPES.get(kind, (str, int, float, bool))
    if isinstance(value, bool) and bool not in allowed:
        raise InvalidInput(f"parameter {name!r} must be a {kind}", code="INVALID_PARAMETER")
    if not isinstance(value, allowed):
        raise InvalidInput(f"parameter {name!r} must be a {kind}", code="INVALID_PARAMETER")
    return value


@attrs.frozen
class SavedQuery:
    id: str
    table: str
    fields: tuple[str, ...]
    nql: str
    parameters: Mapping[str, Mapping[str, Any]]
    where: tuple[Mapping[str, Any], ...]
    export_error: str | None = None

    @classmethod
    def of(cls, query_id: str, raw: Mapping[str, Any]) -> SavedQuery:
        fields = tuple(raw["fields"])
        return cls(
            id=query_id,
            table=raw["table"],
            fields=fields,
            nql=raw.get("nql") or f"{raw['table']} | list {', '.join(fields)}",
            parameters=dict(raw.get("parameters") or {}),
            where=tuple(raw.get("where") or ()),
            export_error=raw.get("export_error"),
        )

    def bind(self, given: Mapping[str, Scalar]) -> dict[str, Scalar]:
        """The parameters' values: those given, typed, else the defaults; an
        unknown or missing one is refused naming it."""
        unknown = sorted(set(given) - set(self.parameters))
        if unknown:
            raise InvalidInput(
                f"query {self.id} has no parameter {unknown[0]!r}", code="INVALID_PARAMETER"
            )
        bound: dict[str, Scalar] = {}
        for name, spec in self.parameters.items():
            if name in given:
                bound[name] = _typed(name, spec.get("type", "string"), given[name])
            elif "default" in spec:
                bound[name] = spec["default"]
            else:
                raise InvalidInput(
                    f"query {self.id} needs parameter {name!r}", code="MISSING_PARAMETER"
                )
        return bound

    def text(self, bound: Mapping[str, Scalar]) -> str:
        """The NQL as executed: the parameters written in."""
        text = self.nql
        for name in sorted(bound, key=len, reverse=True):
            value = bound[name]
            shown = f'"{value}"' if isinstance(value, str) else str(value).lower()
            text = text.replace(f"${name}", shown)
        return text

    def keeps(self, row: Row, bound: Mapping[str, Scalar]) -> bool:
        for condition in self.where:
            value = condition.get("value")
            if isinstance(value, str) and value.startswith("$"):
                value = bound[value[1:]]
            have = row.get(condition["field"])
            try:
                if have is None or not _OPS[condition.get("op", "==")](have, value):
                    return False
            except TypeError:
                return False
        return True


class Tables:
    """The seeded tables (devices, users, ...) and the saved queries over them."""

    def __init__(self, tables: Mapping[str, Sequence[Row]], queries: Mapping[str, Any]) -> None:
        self.tables: dict[str, list[Row]] = {
            name: [dict(r) for r in rows] for name, rows in tables.items()
        }
        self.queries = {qid: SavedQuery.of(qid, raw) for qid, raw in queries.items()}

    def query(self, query_id: str) -> SavedQuery:
        query = self.queries.get(query_id)
        if query is None:
            raise NotFound(f"no NQL query {query_id}", code="NOT_FOUND")
        return query

    def run(
        self, query_id: str, parameters: Mapping[str, Scalar]
    ) -> tuple[SavedQuery, str, list[list[Any]]]:
        """The query, its executed text and its rows (values in field order)."""
        query = self.query(query_id)
        bound = query.bind(parameters)
        rows = [
            [row.get(field) for field in query.fields]
            for row in self.tables.get(query.table, ())
            if query.keeps(row, bound)
        ]
        return query, query.text(bound), rows

    def find(self, table: str, field: str, value: Any) -> Row | None:
        for row in self.tables.get(table, ()):
            if field in row and row[field] == value:
                return row
        return None


def csv_text(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(
            ["" if v is None else str(v).lower() if isinstance(v, bool) else v for v in row]
        )
    return out.getvalue()
