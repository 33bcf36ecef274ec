"""HTML for notebooks: what ``_repr_html_`` of a result shows in Jupyter.

Every result type of the suite that people look at in a notebook (pages, NQL
results, search answers, batch outcomes) renders through these few
functions, so each of them is:

- **escaped**: every header, cell and caption goes through :func:`html.escape`
  (a value holding ``<script>`` shows as text, never runs);
- **bounded**: at most ``max_rows`` rows and ``max_columns`` columns, each
  cell cut at ``max_chars`` characters; a note says how much was left out,
  so a 10,000-row result renders as fast as a 20-row one;
- **I/O-free**: they format what is in memory (a page's repr never fetches
  the next page).
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

import pydantic

__all__ = [
    "MAX_CELL_CHARS",
    "MAX_COLUMNS",
    "MAX_ROWS",
    "html_fields",
    "html_records",
    "html_section",
    "html_table",
    "html_text",
]

T = TypeVar("T")

MAX_ROWS = 20
"""Rows a table shows; the rest are counted in a note under it."""
MAX_COLUMNS = 30
MAX_CELL_CHARS = 200


def _plain(value: Any, *, exclude_none: bool = True) -> Any:
    """A JSON-ready form of ``value`` (models by their wire names)."""
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_none=exclude_none)
    return value


def _as_text(value: Any) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def _cut(text: str, max_chars: int) -> str:
    return text if len(text) <= max_chars else text[: max_chars - 1] + "\u2026"


def html_text(value: Any, *, max_chars: int = MAX_CELL_CHARS) -> str:
    """``value`` as escaped text, cut at ``max_chars`` characters (with an ellipsis).

    ``None`` is empty; dates are ISO 8601; lists, mappings and models are compact JSON.
    """
    return html.escape(_cut(_as_text(value), max_chars), quote=True)


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"


def _head(rows: Iterable[T], total: int | None, max_rows: int) -> tuple[list[T], int | None, bool]:
    """The rows to show; how many there are in all (given, or ``len(rows)``);
    and, when that is unknown, whether more follow (one row past is read to know)."""
    if total is None and isinstance(rows, Sequence):
        total = len(rows)
    taken = list(itertools.islice(rows, max_rows + (1 if total is None else 0)))
    return taken[:max_rows], total, len(taken) > max_rows


def _render(
    columns: Sequence[Any],
    shown: Sequence[Sequence[Any]],
    total: int | None,
    more: bool,
    *,
    caption: str | None,
    max_columns: int,
    max_chars: int,
) -> str:
    heads = list(columns)[:max_columns]
    out = ['<div class="sdk-html"><table>']
    if caption:
        out.append(f"<caption>{html.escape(caption)}</caption>")
    out.append(
        "<thead><tr>"
        + "".join(f"<th>{html_text(h, max_chars=max_chars)}</th>" for h in heads)
        + "</tr></thead><tbody>"
    )
    for row in shown:
        cells = list(row)[:max_columns]
        cells += [None] * (len(heads) - len(cells))
        out.append(
            "<tr>"
            + "".join(f"<td>{html_text(v, max_chars=max_chars)}</td>" for v in cells)
            + "</tr>"
        )
    out.append("</tbody></table>")
    notes = []
    if not shown:
        notes.append("no rows")
    if total is not None and total > len(shown):
        notes.append(f"{_count(total - len(shown), 'more row')} not shown ({total:,} in all)")
    elif total is None and more:
        notes.append(f"more rows not shown (the first {len(shown):,} are)")
    if len(columns) > max_columns:
        notes.append(f"{_count(len(columns) - max_columns, 'more column')} not shown")
    if notes:
        out.append(f"<p><small>{html.escape('; '.join(notes))}</small></p>")
    out.append("</div>")
    return "".join(out)


def html_table(
    columns: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    caption: str | None = None,
    total: int | None = None,
    max_rows: int = MAX_ROWS,
    max_columns: int = MAX_COLUMNS,
    max_chars: int = MAX_CELL_CHARS,
) -> str:
    """An HTML table of ``rows`` under ``columns``, escaped and bounded.

    ``total`` is how many rows there are in all (``len(rows)`` when it has
    one); past ``max_rows``, a note under the table says how many more there
    are. Only the rows shown are read from ``rows``, so it may be a generator.
    """
    shown, total, more = _head(rows, total, max_rows)
    return _render(
        columns, shown, total, more, caption=caption, max_columns=max_columns, max_chars=max_chars
    )


def html_records(
    records: Iterable[Any],
    *,
    caption: str | None = None,
    total: int | None = None,
    max_rows: int = MAX_ROWS,
    max_columns: int = MAX_COLUMNS,
    max_chars: int = MAX_CELL_CHARS,
) -> str:
    """An HTML table of records: mappings or models (a column per key, in the
    order first met among the rows shown; models by their wire names), or
    plain values (one ``value`` column)."""
    taken, total, more = _head(records, total, max_rows)
    plain = [_plain(r, exclude_none=False) for r in taken]  # every row, every field
    columns: dict[str, None] = {}
    for record in plain:
        if isinstance(record, Mapping):
            columns.update(dict.fromkeys(str(k) for k in record))
    rows = [
        [r.get(c) for c in columns] if isinstance(r, Mapping) else [r]
        for r in plain  # a plain value among mappings lands in the first column
    ]
    heads = list(columns) if columns or not plain else ["value"]
    return _render(
        heads, rows, total, more, caption=caption, max_columns=max_columns, max_chars=max_chars
    )


def _flat(record: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in record.items():
        if isinstance(value, Mapping) and value:
            yield from _flat(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def html_fields(
    record: Any,
    *,
    caption: str | None = None,
    max_rows: int = 50,
    max_chars: int = MAX_CELL_CHARS,
) -> str:
    """One record (a model, by its wire names, or a mapping) as a two-column
    table of its fields; nested objects as dotted names (``drift.expected``)."""
    plain = _plain(record, exclude_none=False)
    rows = list(_flat(plain)) if isinstance(plain, Mapping) else [("value", plain)]
    return html_table(
        ["field", "value"], rows, caption=caption, max_rows=max_rows, max_chars=max_chars
    )


def html_section(title: str, *parts: str) -> str:
    """A titled block (the title escaped) holding ``parts``, HTML that this
    module made (tables, :func:`html_text`)."""
    head = f"<p><strong>{html.escape(title)}</strong></p>"
    return f'<div class="sdk-html">{head}{"".join(parts)}</div>'
