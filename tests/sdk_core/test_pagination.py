"""Auto-iteration over pages and items, page/limit and offset/limit, sync and async."""

from __future__ import annotations

from typing import Any

import httpx
import respx

from sdk_core import (
    AsyncAPIClient,
    AsyncPaginator,
    BaseModel,
    OffsetPagination,
    Page,
    PageNumberPagination,
    SyncAPIClient,
    SyncPaginator,
)

BASE = "https://api.example.test"


class Envelope(BaseModel):
    data: list[int]
    total: int
    page: int
    pages: int


def pages_route() -> respx.Route:
    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        limit = int(request.url.params["limit"])
        items = list(range((page - 1) * limit, min(page * limit, 7)))
        return httpx.Response(200, json={"data": items, "total": 7, "page": page, "pages": 3})

    return respx.get(f"{BASE}/things").mock(side_effect=answer)


@respx.mock
def test_page_number_iteration_over_items_fetches_lazily() -> None:
    route = pages_route()
    client = SyncAPIClient(base_url=BASE)

    def fetch(params: dict[str, Any]) -> Page[int]:
        env = client.request("GET", "/things", params=params, cast_to=Envelope)
        return Page(env.data, total=env.total, total_pages=env.pages, raw=env)

    paginator = SyncPaginator(fetch, PageNumberPagination(limit=3), {"status": "active"})
    iterator = iter(paginator)
    assert [next(iterator) for _ in range(3)] == [0, 1, 2]
    assert route.call_count == 1  # the second page is not fetched yet
    assert list(iterator) == [3, 4, 5, 6]
    assert [dict(c.request.url.params) for c in route.calls] == [
        {"status": "active", "page": "1", "limit": "3"},
        {"status": "active", "page": "2", "limit": "3"},
        {"status": "active", "page": "3", "limit": "3"},
    ]


@respx.mock
async def test_async_pages() -> None:
    pages_route()
    client = AsyncAPIClient(base_url=BASE)

    async def fetch(params: dict[str, Any]) -> Page[int]:
        env = await client.request("GET", "/things", params=params, cast_to=Envelope)
        return Page(env.data, total_pages=env.pages)

    paginator = AsyncPaginator(fetch, PageNumberPagination(limit=3))
    sizes = [len(page) async for page in paginator.pages()]
    assert sizes == [3, 3, 1]
    assert [i async for i in paginator] == list(range(7))


def test_offset_strategy_stops_on_total_short_page_or_has_more() -> None:
    s = OffsetPagination(limit=2)
    first = s.first({})
    assert first == {"offset": 0, "limit": 2}
    assert s.next(first, Page([1, 2], total=5)) == {"offset": 2, "limit": 2}
    assert s.next({"offset": 4, "limit": 2}, Page([5], total=5)) is None
    assert s.next(first, Page([1])) is None  # short page, no total
    assert s.next(first, Page([1, 2], has_more=False)) is None
    assert s.next(first, Page([])) is None


def test_offset_iteration_sync() -> None:
    data = list(range(11))
    calls: list[dict[str, Any]] = []

    def fetch(params: dict[str, Any]) -> Page[int]:
        calls.append(params)
        o, n = params["offset"], params["limit"]
        return Page(data[o : o + n])

    assert list(SyncPaginator(fetch, OffsetPagination(limit=4))) == data
    assert [c["offset"] for c in calls] == [0, 4, 8]


def test_page_number_without_totals_stops_on_a_short_page() -> None:
    s = PageNumberPagination(limit=10)
    assert s.next({"page": 1, "limit": 10}, Page(list(range(10)))) == {"page": 2, "limit": 10}
    assert s.next({"page": 2, "limit": 10}, Page([1])) is None
    assert s.next({"page": 1, "limit": 10}, Page(list(range(10)), total=10)) is None


def test_max_pages_bounds_iteration() -> None:
    paginator = SyncPaginator(
        lambda p: Page([p["page"]], has_more=True), PageNumberPagination(), max_pages=4
    )
    assert list(paginator) == [1, 2, 3, 4]
