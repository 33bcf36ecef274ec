"""Read back what a ``_repr_html_`` rendered, as a browser would: tables
(caption, headers, cells as text), titles and notes. Unbalanced tags fail."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Table:
    caption: str = ""
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Rendered:
    tables: list[Table] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)  # <strong>
    notes: list[str] = field(default_factory=list)  # <small>
    quotes: list[str] = field(default_factory=list)  # <blockquote>
    paragraphs: list[str] = field(default_factory=list)  # <p> outside the above
    tags: set[str] = field(default_factory=set)

    def table(self, caption: str) -> Table:
        found = [t for t in self.tables if t.caption == caption]
        assert len(found) == 1, (caption, [t.caption for t in self.tables])
        return found[0]


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out = Rendered()
        self.stack: list[str] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.tags.add(tag)
        self.stack.append(tag)
        if tag == "table":
            self.out.tables.append(Table())
        if tag in ("caption", "th", "td", "strong", "small", "blockquote", "p"):
            self.text = ""
        if tag == "tr" and "tbody" in self.stack:
            self.out.tables[-1].rows.append([])

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1:] == [tag], f"</{tag}> closes {self.stack}"
        self.stack.pop()
        table = self.out.tables[-1] if self.out.tables else None
        if tag == "caption" and table:
            table.caption = self.text
        elif tag == "th" and table:
            table.headers.append(self.text)
        elif tag == "td" and table:
            table.rows[-1].append(self.text)
        elif tag == "strong":
            self.out.titles.append(self.text)
        elif tag == "small":
            self.out.notes.append(self.text)
        elif tag == "blockquote":
            self.out.quotes.append(self.text)
        elif tag == "p" and self.text:
            self.out.paragraphs.append(self.text)

    def handle_data(self, data: str) -> None:
        self.text += data


def read_html(markup: str) -> Rendered:
    reader = _Reader()
    reader.feed(markup)
    reader.close()
    assert not reader.stack, f"unclosed: {reader.stack}"
    return reader.out
