"""Pages as list results, as in openai-python.

What a list method returns is a :class:`SyncPage` (or, awaited, an
:class:`AsyncPage`): the first page, fetched when the list call is made (so
a bad filter fails there), with ``has_next_page()``, ``get_next_page()``,
``iter_pages()``, and iteration over the items of every page, fetching each
page only when the previous one is used up. A page keeps its response
(``page.response``: headers, request id, rate limit). Which parameters ask
for the next page is the strategy's (``_pagination.py``), I/O-free.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx

from ._exceptions import SDKError
from ._html import html_records
from ._pagination import Page, PaginationStrategy, Params, _Positions

if TYPE_CHECKING:
    from ._rate_limit import RateLimitInfo
    from ._response import APIResponse

__all__ = ["AsyncPage", "AsyncPageRequest", "BasePage", "SyncPage"]

T = TypeVar("T")


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
