"""What a notebook shows of NQL results and enrichment outcomes: a real
answer of the Nexthink emulator, and hostile or huge ones built by hand."""

from __future__ import annotations

from nexthink_sdk import Enrichment, NexthinkClient, NqlResult, NqlResultV2
from tests.html_support import read_html

EVIL = "<script>alert(1)</script>"


def test_an_nql_result_from_the_emulator_reads_as_a_table(nexthink_client: NexthinkClient) -> None:
    v2 = read_html(nexthink_client.nql.execute_v2("#crashes", {"days": 7})._repr_html_())
    v1 = read_html(nexthink_client.nql.execute("#crashes", {"days": 7})._repr_html_())
    for rendered in (v1, v2):
        table = rendered.tables[0]
        assert table.caption.startswith("NQL #crashes: 2 rows, executed ")
        assert table.headers == ["device.name", "crashes"]
        assert table.rows == [["LAPTOP-1", "3"], ["KIOSK-6", "12"]]


def test_an_enrichment_outcome_names_the_device_that_failed(
    nexthink_client: NexthinkClient,
) -> None:
    outcome = nexthink_client.enrichment.set_fields(
        [
            Enrichment.of(("device/device/name", "LAPTOP-1"), {"device/device/#asset_tag": "A-1"}),
            Enrichment.of(("device/device/name", "GHOST-9"), {"device/device/#asset_tag": "A-9"}),
        ],
        domain="notebook",
    )
    rendered = read_html(outcome._repr_html_())
    assert rendered.titles == ["HTTP 207: partial: 1 succeeded, 1 failed"]
    [failure] = rendered.table("failed").rows
    assert "GHOST-9" in failure[0]
    assert failure[1] == "Object GHOST-9 not found"
    assert "LAPTOP-1" in rendered.table("succeeded").rows[0][0]


def test_hostile_values_are_escaped_in_both_versions() -> None:
    v1 = NqlResult.model_validate({"queryId": "#q", "rows": 1, "headers": [EVIL], "data": [[EVIL]]})
    v2 = NqlResultV2.model_validate({"queryId": "#q", "rows": 1, "data": [{EVIL: EVIL}]})
    for result in (v1, v2):
        markup = result._repr_html_()
        assert "<script>" not in markup
        table = read_html(markup).tables[0]
        assert (table.headers, table.rows) == ([EVIL], [[EVIL]])


def test_ten_thousand_rows_show_the_first_and_say_how_many_more() -> None:
    data = [{"device.name": f"D-{i}", "crashes": i % 4} for i in range(10_000)]
    v2 = NqlResultV2.model_validate({"queryId": "#all", "rows": 10_000, "data": data})
    v1 = NqlResult.model_validate(
        {
            "queryId": "#all",
            "rows": 12_000,
            "headers": ["device.name", "crashes"],
            "data": [list(d.values()) for d in data],
        }
    )
    for result, caption in (
        (v2, "NQL #all: 10,000 rows"),
        (v1, "NQL #all: 12,000 rows (10,000 returned)"),
    ):
        rendered = read_html(result._repr_html_())
        assert rendered.tables[0].caption == caption
        assert rendered.tables[0].rows[:2] == [["D-0", "0"], ["D-1", "1"]]
        assert len(rendered.tables[0].rows) == 20
        assert rendered.notes == ["9,980 more rows not shown (10,000 in all)"]
