"""Paged lists, sync and async, one page in memory at a time: how pages are
asked for and walked (the pages a list method returns are in ``_pages.py``).

A *strategy* (I/O-free) says which query parameters ask for the first page
and, given a page, which ask for the next one or that there is none:
:class:`PageNumberPagination` (``page``/``limit``) and
:class:`OffsetPagination` (``offset``/``limit``). A *fetch* function (the
only I/O) turns parameters into a :class:`Page`. :class:`SyncPaginator` and
:class:`AsyncPaginator` iterate pages (``.pages()``) or items (plain
iteration), fetching a page only when the previous one is used up; they
fetch nothing until iterated.
"""

from __future__ import annotations

from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterator,
    Mapping,
    Sequence,
)
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, runtime_checkable

import attrs

from ._html import _count, html_records

if TYPE_CHECKING:
    pass

__all__ = [
    "AsyncPaginator",
    "OffsetPagination",
    "Page",
    "PageNumberPagination",
    "PaginationStrategy",
    "SyncPaginator",
]

T = TypeVar("T")
Params = dict[str, Any]


@attrs.frozen
class Page(Generic[T]):
    """One page of items and what the server said about the rest."""

    items: Sequence[T]
    total: int | None = None
    """Items in the whole list, when known."""
    total_pages: int | None = None
    has_more: bool | None = None
    raw: Any = attrs.field(default=None, repr=False, eq=False)
    """The page's response model or envelope."""

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def _repr_html_(self) -> str:
        """The items as a table in a notebook, with what the server said of the rest."""
        facts = [f"Page: {_count(len(self.items), 'item')}"]
        if self.total is not None:
            facts.append(f"{self.total:,} in all")
        if self.total_pages is not None:
            facts.append(f"{self.total_pages:,} pages")
        if self.has_more is not None:
            facts.append("has more" if self.has_more else "last page")
        return html_records(self.items, caption=", ".join(facts))


class PaginationStrategy(Protocol):
    def first(self, params: Mapping[str, Any]) -> Params: ...

    def next(self, params: Params, page: Page[Any]) -> Params | None: ...


@runtime_checkable
class _Positions(Protocol):
    """A strategy that can also say where a page stands (both built-in ones can)."""

    def position(self, params: Params, page: Page[Any]) -> tuple[int | None, int | None]: ...


def _pages_for(total: int | None, limit: Any) -> int | None:
    if total is None or not limit:
        return None
    return -(-total // int(limit))


@attrs.frozen
class PageNumberPagination:
    """``?page=N&limit=M``, pages counted from ``first_page``."""

    page_param: str = "page"
    limit_param: str = "limit"
    first_page: int = 1
    limit: int | None = None

    def first(self, params: Mapping[str, Any]) -> Params:
        out = dict(params)
        out.setdefault(self.page_param, self.first_page)
        if self.limit is not None:
            out.setdefault(self.limit_param, self.limit)
        return out

    def next(self, params: Params, page: Page[Any]) -> Params | None:
        number = int(params[self.page_param])
        limit = params.get(self.limit_param)
        if not page.items or page.has_more is False:
            return None
        if page.has_more is None:
            if page.total_pages is not None:
                if number - self.first_page + 1 >= page.total_pages:
                    return None
            elif page.total is not None and limit is not None:
                if (number - self.first_page + 1) * int(limit) >= page.total:
                    return None
            elif limit is not None and len(page.items) < int(limit):
                return None
        return {**params, self.page_param: number + 1}

    def position(self, params: Params, page: Page[Any]) -> tuple[int | None, int | None]:
        """This page's number counted from 1, and how many pages there are (if known)."""
        number = int(params[self.page_param]) - self.first_page + 1
        count = page.total_pages
        if count is None:
            count = _pages_for(page.total, params.get(self.limit_param))
        return number, count


@attrs.frozen
class OffsetPagination:
    """``?offset=N&limit=M``."""

    offset_param: str = "offset"
    limit_param: str = "limit"
    limit: int | None = None

    def first(self, params: Mapping[str, Any]) -> Params:
        out = dict(params)
        out.setdefault(self.offset_param, 0)
        if self.limit is not None:
            out.setdefault(self.limit_param, self.limit)
        return out

    def next(self, params: Params, page: Page[Any]) -> Params | None:
        offset = int(params[self.offset_param]) + len(page.items)
        limit = params.get(self.limit_param)
        if not page.items or page.has_more is False:
            return None
        if page.has_more is None:
            if page.total is not None:
                if offset >= page.total:
                    return None
            elif limit is not None and len(page.items) < int(limit):
                return None
        return {**params, self.offset_param: offset}

    def position(self, params: Params, page: Page[Any]) -> tuple[int | None, int | None]:
        """This page's number counted from 1 (when pages are ``limit`` long),
        and how many pages there are (if known)."""
        limit = params.get(self.limit_param)
        if not limit:
            return None, None
        number = int(params[self.offset_param]) // int(limit) + 1
        return number, _pages_for(page.total, limit)


class SyncPaginator(Generic[T]):
    """Iterate items (``for item in paginator``) or pages (``paginator.pages()``)."""

    def __init__(
        self,
        fetch: Callable[[Params], Page[T]],
        strategy: PaginationStrategy,
        params: Mapping[str, Any] | None = None,
        *,
        max_pages: int | None = None,
    ) -> None:
        self._fetch = fetch
        self._strategy = strategy
        self._params = strategy.first(params or {})
        self._max_pages = max_pages

    def pages(self) -> Iterator[Page[T]]:
        params: Params | None = self._params
        count = 0
        while params is not None:
            page = self._fetch(params)
            count += 1
            yield page
            if self._max_pages is not None and count >= self._max_pages:
                return
            params = self._strategy.next(params, page)

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.items

    def first_page(self) -> Page[T]:
        return self._fetch(self._params)


class AsyncPaginator(Generic[T]):
    """``async for item in paginator`` or ``async for page in paginator.pages()``."""

    def __init__(
        self,
        fetch: Callable[[Params], Awaitable[Page[T]]],
        strategy: PaginationStrategy,
        params: Mapping[str, Any] | None = None,
        *,
        max_pages: int | None = None,
    ) -> None:
        self._fetch = fetch
        self._strategy = strategy
        self._params = strategy.first(params or {})
        self._max_pages = max_pages

    async def pages(self) -> AsyncIterator[Page[T]]:
        params: Params | None = self._params
        count = 0
        while params is not None:
            page = await self._fetch(params)
            count += 1
            yield page
            if self._max_pages is not None and count >= self._max_pages:
                return
            params = self._strategy.next(params, page)

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.items:
                yield item

    async def first_page(self) -> Page[T]:
        return await self._fetch(self._params)
