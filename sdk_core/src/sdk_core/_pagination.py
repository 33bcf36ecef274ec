"""Paged lists, sync and async, one page in memory at a time.

What a list method returns is a :class:`SyncPage` (or, awaited, an
:class:`AsyncPage`), as in openai-python: the first page, fetched when the
list call is made (so a bad filter fails there), with ``has_next_page()``,
``get_next_page()``, ``iter_pages()``, and iteration over the items of every
page, fetching each page only when the previous one is used up. A page keeps
its response (``page.response``: headers, request id, rate limit).

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
    Generator,
    Iterator,
    Mapping,
    Sequence,
)
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, runtime_checkable

import attrs
import httpx

from ._exceptions import SDKError
from ._html import _count, html_records

if TYPE_CHECKING:
    from ._rate_limit import RateLimitInfo
    from ._response import APIResponse

__all__ = [
    "AsyncPage",
    "AsyncPageRequest",
    "AsyncPaginator",
    "BasePage",
    "OffsetPagination",
    "Page",
    "PageNumberPagination",
    "PaginationStrategy",
    "SyncPage",
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


# ----------------------------------------------------------- pages as list results
class BasePage(Generic[T]):
    """One fetched page and what it knows of the next one; I/O-free."""

    __slots__ = ("_data", "_params", "_strategy", "response")

    def __init__(
        self,
        data: Page[T],
        *,
        params: Params,
        strategy: PaginationStrategy,
        response: APIResponse[Any] | None = None,
    ) -> None:
        self._data = data
        self._params = params
        self._strategy = strategy
        self.response = response
        """The HTTP answer of this page: ``.headers``, ``.request_id``, ``.rate_limit``."""

    @property
    def items(self) -> Sequence[T]:
        """The items of this page only (iterate the page for every page's items)."""
        return self._data.items

    @property
    def total(self) -> int | None:
        return self._data.total

    @property
    def total_pages(self) -> int | None:
        return self._data.total_pages

    @property
    def raw(self) -> Any:
        """The page's response model or envelope."""
        return self._data.raw

    @property
    def params(self) -> Params:
        """The query parameters that fetched this page."""
        return dict(self._params)

    @property
    def request_id(self) -> str | None:
        return self.response.request_id if self.response is not None else None

    @property
    def headers(self) -> httpx.Headers:
        return self.response.headers if self.response is not None else httpx.Headers()

    @property
    def rate_limit(self) -> RateLimitInfo | None:
        return self.response.rate_limit if self.response is not None else None

    def next_page_params(self) -> Params | None:
        return self._strategy.next(self._params, self._data)

    def has_next_page(self) -> bool:
        return self.next_page_params() is not None

    @property
    def page_number(self) -> int | None:
        """This page's number, counted from 1 (``None`` when the strategy cannot tell)."""
        return self._position()[0]

    @property
    def page_count(self) -> int | None:
        """How many pages the list has, when the server said enough to know."""
        return self._position()[1]

    def _position(self) -> tuple[int | None, int | None]:
        if isinstance(self._strategy, _Positions):
            return self._strategy.position(self._params, self._data)
        return None, None

    def _repr_html_(self) -> str:
        """This page's items as a table, with where the page stands (no I/O)."""
        number, count = self._position()
        where = f"page {number}" if number is not None else "a page"
        if number is not None and count is not None:
            where += f" of {count}"
        facts = [f"{type(self).__name__}: {where}", f"{len(self):,} on this page"]
        if self.total is not None:
            facts.append(f"{self.total:,} in all")
        facts.append("has more" if self.has_next_page() else "last page")
        return html_records(self.items, caption=", ".join(facts))

    def _next_params(self) -> Params:
        params = self.next_page_params()
        if params is None:
            raise SDKError("this is the last page: check has_next_page() first")
        return params

    def __len__(self) -> int:
        return len(self._data.items)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(items={len(self)}, total={self.total!r}, "
            f"params={self._params!r})"
        )


class SyncPage(BasePage[T]):
    """A page of a list, sync: ``for item in page`` walks every page from here."""

    __slots__ = ("_fetch",)

    def __init__(
        self,
        data: Page[T],
        *,
        params: Params,
        strategy: PaginationStrategy,
        fetch: Callable[[Params], SyncPage[T]],
        response: APIResponse[Any] | None = None,
    ) -> None:
        super().__init__(data, params=params, strategy=strategy, response=response)
        self._fetch = fetch

    def get_next_page(self) -> SyncPage[T]:
        return self._fetch(self._next_params())

    def iter_pages(self) -> Iterator[SyncPage[T]]:
        """This page, then each next one, fetched as the previous one is done."""
        page = self
        yield page
        while page.has_next_page():
            page = page.get_next_page()
            yield page

    pages = iter_pages
    """The name :class:`SyncPaginator` uses."""

    def first_page(self) -> SyncPage[T]:
        """This page (kept for code written against :class:`SyncPaginator`)."""
        return self

    def __iter__(self) -> Iterator[T]:
        for page in self.iter_pages():
            yield from page.items


class AsyncPage(BasePage[T]):
    """A page of a list, async: ``async for item in page`` walks every page from here."""

    __slots__ = ("_fetch",)

    def __init__(
        self,
        data: Page[T],
        *,
        params: Params,
        strategy: PaginationStrategy,
        fetch: Callable[[Params], Awaitable[AsyncPage[T]]],
        response: APIResponse[Any] | None = None,
    ) -> None:
        super().__init__(data, params=params, strategy=strategy, response=response)
        self._fetch = fetch

    async def get_next_page(self) -> AsyncPage[T]:
        return await self._fetch(self._next_params())

    async def iter_pages(self) -> AsyncIterator[AsyncPage[T]]:
        page = self
        yield page
        while page.has_next_page():
            page = await page.get_next_page()
            yield page

    pages = iter_pages

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page.items:
                yield item


class AsyncPageRequest(Generic[T]):
    """What an async list method returns: ``await`` it for the first
    :class:`AsyncPage`, or ``async for`` over it for the items of every page."""

    __slots__ = ("_first",)

    def __init__(self, first: Callable[[], Awaitable[AsyncPage[T]]]) -> None:
        self._first = first

    def __await__(self) -> Generator[Any, None, AsyncPage[T]]:
        return self._first().__await__()

    async def iter_pages(self) -> AsyncIterator[AsyncPage[T]]:
        first = await self._first()
        async for page in first.iter_pages():
            yield page

    pages = iter_pages

    async def first_page(self) -> AsyncPage[T]:
        return await self._first()

    async def __aiter__(self) -> AsyncIterator[T]:
        first = await self._first()
        async for item in first:
            yield item
