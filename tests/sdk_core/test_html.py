"""What a notebook shows of a page, a batch outcome or any table: escaped,
bounded, and made without I/O."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import Field

from sdk_core import (
    AsyncPage,
    BaseModel,
    ItemError,
    MultiStatusResult,
    OffsetPagination,
    Page,
    PageNumberPagination,
    SyncPage,
    html_fields,
    html_records,
    html_table,
    html_text,
)
from tests.html_support import read_html

EVIL = '<script>alert("x")</script>'


class Item(BaseModel):
    id: int
    display_name: str = Field(alias="displayName")
    created: dt.datetime | None = None


def no_fetch(params: dict[str, Any]) -> SyncPage[Any]:
    raise AssertionError(f"a repr fetched a page: {params}")


async def no_async_fetch(params: dict[str, Any]) -> AsyncPage[Any]:
    raise AssertionError(f"a repr fetched a page: {params}")


def test_every_header_cell_and_caption_is_escaped() -> None:
    markup = html_table([EVIL, "b"], [[EVIL, "a & b"], ["'quoted'", None]], caption=EVIL)
    assert "<script>" not in markup
    assert "&lt;script&gt;" in markup
    table = read_html(markup).tables[0]
    assert table.caption == EVIL
    assert table.headers == [EVIL, "b"]
    assert table.rows == [[EVIL, "a & b"], ["'quoted'", ""]]


def test_ten_thousand_rows_show_the_first_twenty_and_count_the_rest() -> None:
    rows = [[i, f"device-{i}"] for i in range(10_000)]
    rendered = read_html(html_table(["n", "name"], rows))
    assert [r[0] for r in rendered.tables[0].rows] == [str(i) for i in range(20)]
    assert rendered.notes == ["9,980 more rows not shown (10,000 in all)"]


def test_a_generator_is_read_only_as_far_as_it_is_shown() -> None:
    read: list[int] = []

    def rows() -> Iterator[list[int]]:
        for i in range(10_000):
            read.append(i)
            yield [i]

    rendered = read_html(html_table(["n"], rows(), max_rows=5))
    assert len(rendered.tables[0].rows) == 5
    assert len(read) == 6  # one past the rows shown, to know that there are more
    assert rendered.notes == ["more rows not shown (the first 5 are)"]
    exact = read_html(html_table(["n"], ([i] for i in range(5)), max_rows=5))
    assert exact.notes == []


def test_long_cells_and_wide_tables_are_cut() -> None:
    columns = [f"c{i}" for i in range(40)]
    rendered = read_html(html_table(columns, [["x" * 5_000] * 40]))
    table = rendered.tables[0]
    assert table.headers == columns[:30]
    assert table.rows[0][0] == "x" * 199 + "\u2026"
    assert rendered.notes == ["10 more columns not shown"]


def test_an_empty_table_says_so() -> None:
    assert read_html(html_table(["a"], [])).notes == ["no rows"]


def test_cells_read_as_people_expect() -> None:
    when = dt.datetime(2025, 3, 1, 12, 30, tzinfo=dt.UTC)
    item = Item(id=1, displayName="a")
    assert html_text(None) == ""
    assert html_text(when) == "2025-03-01T12:30:00+00:00"
    assert (
        html_text({"k": [1, EVIL]})
        == "{&quot;k&quot;: [1, &quot;&lt;script&gt;alert(\\&quot;x\\&quot;)&lt;/script&gt;&quot;]}"
    )
    assert html_text(item) == "{&quot;id&quot;: 1, &quot;displayName&quot;: &quot;a&quot;}"
    assert html_text("é" * 10, max_chars=4) == "ééé\u2026"


def test_records_from_models_mappings_and_plain_values() -> None:
    models = read_html(html_records([Item(id=1, displayName=EVIL), Item(id=2, displayName="b")]))
    assert models.tables[0].headers == ["id", "displayName", "created"]
    assert models.tables[0].rows == [["1", EVIL, ""], ["2", "b", ""]]
    mixed = read_html(html_records([{"a": 1}, {"b": 2, "a": 3}]))
    assert mixed.tables[0].headers == ["a", "b"]
    assert mixed.tables[0].rows == [["1", ""], ["3", "2"]]
    plain = read_html(html_records(["S-1-5-21", "S-1-5-22"], caption="users"))
    assert plain.tables[0].headers == ["value"]
    assert plain.tables[0].rows == [["S-1-5-21"], ["S-1-5-22"]]
    many = read_html(html_records({"n": i} for i in range(100)))
    assert len(many.tables[0].rows) == 20
    assert many.notes == ["more rows not shown (the first 20 are)"]


def page_of(
    number: int, *, total: int | None, total_pages: int | None = None, size: int = 3
) -> SyncPage[Item]:
    items = [Item(id=i, displayName=f"item <{i}>") for i in range(size)]
    strategy = PageNumberPagination(limit=3)
    params = {**strategy.first({}), "page": number}
    data = Page(items, total=total, total_pages=total_pages)
    return SyncPage(data, params=params, strategy=strategy, fetch=no_fetch)


@pytest.mark.parametrize(
    ("page", "caption"),
    [
        (page_of(2, total=10), "SyncPage: page 2 of 4, 3 on this page, 10 in all, has more"),
        (
            page_of(4, total=10, size=1),
            "SyncPage: page 4 of 4, 1 on this page, 10 in all, last page",
        ),
        (page_of(1, total=None, total_pages=2), "SyncPage: page 1 of 2, 3 on this page, has more"),
        (page_of(5, total=None), "SyncPage: page 5, 3 on this page, has more"),
    ],
)
def test_a_page_says_where_it_stands_and_fetches_nothing(
    page: SyncPage[Item], caption: str
) -> None:
    rendered = read_html(page._repr_html_())
    table = rendered.tables[0]
    assert table.caption == caption
    assert table.headers == ["id", "displayName", "created"]
    assert table.rows[0] == ["0", "item <0>", ""]


def test_page_number_and_count_by_offset() -> None:
    strategy = OffsetPagination(limit=25)
    data = Page([Item(id=1, displayName="a")] * 25, total=60)
    page = SyncPage(data, params=strategy.first({"offset": 50}), strategy=strategy, fetch=no_fetch)
    assert (page.page_number, page.page_count) == (3, 3)
    no_limit = SyncPage(data, params={"offset": 0}, strategy=OffsetPagination(), fetch=no_fetch)
    assert (no_limit.page_number, no_limit.page_count) == (None, None)


def test_a_page_of_a_strategy_that_cannot_tell_its_position() -> None:
    class Cursor:
        def first(self, params: Any) -> dict[str, Any]:
            return {"cursor": None}

        def next(self, params: dict[str, Any], page: Page[Any]) -> dict[str, Any] | None:
            return {"cursor": "c2"}

    page = SyncPage(Page([1, 2]), params={"cursor": None}, strategy=Cursor(), fetch=no_fetch)
    assert page.page_number is None
    table = read_html(page._repr_html_()).tables[0]
    assert table.caption == "SyncPage: a page, 2 on this page, has more"
    assert table.rows == [["1"], ["2"]]


def test_an_async_page_renders_the_same_without_awaiting() -> None:
    strategy = PageNumberPagination(limit=10)
    data = Page([Item(id=7, displayName=EVIL)], total=1)
    page = AsyncPage(data, params=strategy.first({}), strategy=strategy, fetch=no_async_fetch)
    markup = page._repr_html_()
    assert "<script>" not in markup
    table = read_html(markup).tables[0]
    assert table.caption == "AsyncPage: page 1 of 1, 1 on this page, 1 in all, last page"
    assert table.rows == [["7", EVIL, ""]]


def test_a_batch_outcome_lists_each_failure_and_what_went_through() -> None:
    items = [
        Item(id=1, displayName="ok"),
        Item(id=2, displayName=EVIL),
        Item(id=3, displayName="x"),
    ]
    result = MultiStatusResult.from_failures(
        items,
        [
            (2, [ItemError(f"bad name {EVIL}", code="INVALID")]),
            ("ghost", [ItemError("no such key")]),
        ],
        key=lambda i: i.id,
        status_code=207,
    )
    markup = result._repr_html_()
    assert "<script>" not in markup
    rendered = read_html(markup)
    assert rendered.titles == [
        "HTTP 207: partial: 2 succeeded, 1 failed, 1 failures under keys no item has"
    ]
    failed = rendered.table("failed")
    assert failed.headers == ["item", "error", "code"]
    assert failed.rows[0][1:] == [f"bad name {EVIL}", "INVALID"]
    assert failed.rows[0][0] == '{"id": 2, "displayName": "<script>alert(\\"x\\")</script>"}'
    assert failed.rows[1] == ["ghost", "no such key", ""]
    assert rendered.table("succeeded").rows == [["1", "ok", ""], ["3", "x", ""]]


def test_a_clean_batch_and_a_refused_one() -> None:
    ok = MultiStatusResult.from_failures(["a"], [], key=str, status_code=200)
    rendered = read_html(ok._repr_html_())
    assert rendered.titles == ["HTTP 200: all applied: 1 succeeded, 0 failed"]
    assert [t.caption for t in rendered.tables] == ["succeeded"]
    refused = MultiStatusResult.from_failures(["a", "b"], [], key=str, status_code=400)
    rendered = read_html(refused._repr_html_())
    assert rendered.titles == ["HTTP 400: none applied: 0 succeeded, 2 failed"]
    assert [r[0] for r in rendered.table("failed").rows] == ["a", "b"]


def test_a_batch_of_ten_thousand_failures_is_bounded() -> None:
    items = [str(i) for i in range(10_000)]
    result = MultiStatusResult.from_failures(
        items, [(i, [ItemError("no")]) for i in items], key=str, status_code=400
    )
    rendered = read_html(result._repr_html_())
    assert len(rendered.table("failed").rows) == 20
    assert rendered.notes == ["9,980 more rows not shown (10,000 in all)"]


class Detail(BaseModel):
    id: str
    drift: dict[str, Any]
    tags: list[str]


def test_one_record_as_its_fields_nested_ones_dotted() -> None:
    detail = Detail(id=EVIL, drift={"expected": "on", "actual": {"state": EVIL}}, tags=["a", "b"])
    markup = html_fields(detail, caption="incident")
    assert "<script>" not in markup
    table = read_html(markup).tables[0]
    assert table.caption == "incident"
    assert table.headers == ["field", "value"]
    assert table.rows == [
        ["id", EVIL],
        ["drift.expected", "on"],
        ["drift.actual.state", EVIL],
        ["tags", '["a", "b"]'],
    ]
    wide = read_html(html_fields({f"f{i}": i for i in range(80)}))
    assert len(wide.tables[0].rows) == 50
    assert wide.notes == ["30 more rows not shown (80 in all)"]


def test_a_paginators_page_shows_its_items_and_what_the_server_said() -> None:
    page = Page([Item(id=1, displayName=EVIL)], total=41, total_pages=3, has_more=True)
    markup = page._repr_html_()
    assert "<script>" not in markup
    table = read_html(markup).tables[0]
    assert table.caption == "Page: 1 item, 41 in all, 3 pages, has more"
    assert table.rows == [["1", EVIL, ""]]
    assert read_html(Page([])._repr_html_()).tables[0].caption == "Page: 0 items"
