"""EXASPERATION's search, I/O-free: plain keyword scoring over the seeded
documents, the filters, suggestions and the filter options the corpus has."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

__all__ = ["Corpus", "Document", "Hit", "terms"]

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "of",
        "on",
        "or",
        "the",
        "this",
        "to",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "with",
        "you",
        "your",
        "my",
        "can",
    ]
)


def terms(text: str) -> list[str]:
    """The words of ``text`` that carry meaning, lower-cased."""
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


@attrs.frozen
class Document:
    id: str
    title: str
    content: str
    url: str = ""
    document_type: str = "overview"
    vendor: str = ""
    product: str = ""
    use_cases: tuple[str, ...] = ()
    created_at: str = "2024-01-01"
    updated_at: str = "2024-01-01"

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> Document:
        fields = {f.name for f in attrs.fields(cls)}
        values = {k: v for k, v in raw.items() if k in fields}
        values["use_cases"] = tuple(raw.get("use_cases", ()))
        return cls(**values)

    def source(self, relevance: float, chunk: int) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "url": self.url,
            "chunk_id": f"chunk_{self.id}_{chunk}",
            "content": self.content,
            "relevance_score": relevance,
            "metadata": {
                "document_type": self.document_type,
                "vendor": self.vendor,
                "product": self.product,
                "created_at": self.created_at,
                "updated_at": self.updated_at,
            },
        }


@attrs.frozen
class Hit:
    document: Document
    relevance: float


def _matches(doc: Document, filters: Mapping[str, Any]) -> bool:
    for field, attr in (
        ("document_types", "document_type"),
        ("vendors", "vendor"),
        ("products", "product"),
    ):
        wanted = filters.get(field)
        if wanted and getattr(doc, attr) not in wanted:
            return False
    after, before = filters.get("created_after"), filters.get("created_before")
    if after and doc.created_at < after:
        return False
    return not (before and doc.created_at > before)


class Corpus:
    """The seeded documents and the questions suggestions are drawn from."""

    def __init__(self, documents: Iterable[Document], questions: Sequence[str] = ()) -> None:
        self.documents = tuple(documents)
        self.questions = tuple(questions)
        self._title = {d.id: set(terms(d.title)) for d in self.documents}
        self._body = {d.id: set(terms(d.title + " " + d.content)) for d in self.documents}
        count = max(1, len(self.documents))
        frequency: dict[str, int] = {}
        for words in self._body.values():
            for word in words:
                frequency[word] = frequency.get(word, 0) + 1
        self._idf = {w: math.log(1 + count / n) for w, n in frequency.items()}
        self._unseen = math.log(1 + count)

    def relevance(self, doc: Document, query_terms: Sequence[str]) -> float:
        """From 0 to 1: the share of the query's weight found in the document,
        three parts anywhere in it and one part in its title."""
        unique = set(query_terms)
        if not unique:
            return 0.0
        weight = {w: self._idf.get(w, self._unseen) for w in unique}
        total = sum(weight.values())
        body = sum(v for w, v in weight.items() if w in self._body[doc.id]) / total
        title = sum(v for w, v in weight.items() if w in self._title[doc.id]) / total
        return round(0.75 * body + 0.25 * title, 4)

    def search(
        self, query: str, filters: Mapping[str, Any], threshold: float
    ) -> tuple[list[Hit], int]:
        """The documents matching ``filters`` that the query finds at all, best
        first, and how many there were before ``threshold`` cut them."""
        query_terms = terms(query)
        hits = [
            Hit(doc, score)
            for doc in self.documents
            if _matches(doc, filters) and (score := self.relevance(doc, query_terms)) > 0
        ]
        hits.sort(key=lambda h: (-h.relevance, h.document.id))
        return [h for h in hits if h.relevance >= threshold], len(hits)

    def suggestions(self, partial: str, limit: int) -> list[str]:
        """Known questions and titles that start with ``partial``, then those sharing its words."""
        prefix = partial.strip().lower()
        pool = list(dict.fromkeys([*self.questions, *(d.title for d in self.documents)]))
        first = [q for q in pool if q.lower().startswith(prefix)]
        words = set(terms(partial))
        rest = [q for q in pool if q not in first and words & set(terms(q))]
        return (first + rest)[:limit]

    def related(self, hits: Sequence[Hit], query: str, limit: int = 3) -> list[str]:
        """Questions about what the best hits are about, other than the one asked."""
        words = set().union(*(self._title[h.document.id] for h in hits[:2])) if hits else set()
        asked = query.strip().lower()
        return [q for q in self.questions if q.lower() != asked and words & set(terms(q))][:limit]

    def options(self, use_cases: Sequence[str] = ()) -> dict[str, Any]:
        """What the filters can name, as the corpus has it."""
        products: dict[str, list[str]] = {}
        for doc in self.documents:
            if (
                doc.vendor
                and doc.product
                and doc.product not in products.setdefault(doc.vendor, [])
            ):
                products[doc.vendor].append(doc.product)
        dates = sorted(d.created_at for d in self.documents)
        seen_cases = [c for d in self.documents for c in d.use_cases]
        return {
            "document_types": sorted({d.document_type for d in self.documents}),
            "vendors": sorted({d.vendor for d in self.documents if d.vendor}),
            "products": {v: sorted(p) for v, p in sorted(products.items())},
            "use_cases": sorted({*use_cases, *seen_cases}),
            "date_range": {
                "oldest": dates[0] if dates else "",
                "newest": dates[-1] if dates else "",
            },
        }

    def answer(self, hits: Sequence[Hit]) -> str:
        if not hits:
            return "No documentation matched the question; try other words or fewer filters."
        best = hits[0].document
        sentence = best.content.split(". ")[0].rstrip(".")
        return f"{sentence}. (From \u201c{best.title}\u201d.)"
