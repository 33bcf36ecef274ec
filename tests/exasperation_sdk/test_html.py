"""What a notebook shows of a search answer: a real one from the EXASPERATION
emulator, and hostile or huge ones built by hand."""

from __future__ import annotations

from exasperation_sdk import ExasperationClient, SearchResult
from tests.html_support import read_html

EVIL = "<script>alert(1)</script>"


def test_a_search_answer_from_the_emulator(exasperation_client: ExasperationClient) -> None:
    result = exasperation_client.search("password reset detection", max_results=3)
    rendered = read_html(result._repr_html_())
    assert rendered.titles == [
        f"'password reset detection': {len(result.sources)} sources (request {result.request_id})"
    ]
    assert rendered.quotes == [result.answer]
    sources = rendered.table("sources")
    assert sources.headers == ["relevance", "title", "type", "vendor", "product", "id"]
    assert sources.rows[0][1] == "Password Reset Detection Use Case"
    scores = [float(row[0]) for row in sources.rows]
    assert scores == sorted(scores, reverse=True)
    assert len(sources.rows) == len(result.sources) <= 3


def test_hostile_answers_are_escaped_and_huge_ones_bounded() -> None:
    result = SearchResult.model_validate(
        {
            "query": EVIL,
            "answer": EVIL + "x" * 10_000,
            "sources": [
                {"id": f"d{i}", "title": EVIL, "relevance_score": i / 1_000} for i in range(1_000)
            ],
            "suggested_queries": [EVIL],
        }
    )
    markup = result._repr_html_()
    assert "<script>" not in markup
    rendered = read_html(markup)
    assert rendered.titles == [f"{EVIL!r}: 1000 sources"]
    assert rendered.quotes == [EVIL + "x" * (2_000 - len(EVIL) - 1) + "\u2026"]
    sources = rendered.table("sources")
    assert [row[0] for row in sources.rows[:2]] == ["1.00", "1.00"]
    assert sources.rows[0][1] == EVIL
    assert sources.rows[0][5] == "d999"
    assert len(sources.rows) == 20
    assert "980 more rows not shown (1,000 in all)" in rendered.notes
    assert f"Try: {EVIL}" in rendered.paragraphs
