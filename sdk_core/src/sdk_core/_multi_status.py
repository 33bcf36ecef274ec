"""Results of batch calls answered 200 (all applied), 207 (some) or 400 (none).

A partial success is neither a success nor a failure: the result lists what
went through and, for each item that did not, the item and why.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, Generic, TypeVar

import attrs
import httpx

from ._exceptions import SDKError
from ._html import html_records, html_section, html_table

__all__ = ["FailedItem", "ItemError", "MultiStatusError", "MultiStatusResult", "UnmatchedFailure"]

ItemT = TypeVar("ItemT")


@attrs.frozen
class ItemError:
    """Why one item of a batch failed."""

    message: str
    code: str | None = None
    details: Any = None


def _joined(errors: Sequence[ItemError]) -> str:
    return "; ".join(e.message for e in errors)


@attrs.frozen
class FailedItem(Generic[ItemT]):
    """An item of the batch that did not go through, and why."""

    item: ItemT
    errors: tuple[ItemError, ...]

    @property
    def message(self) -> str:
        return _joined(self.errors)


@attrs.frozen
class UnmatchedFailure:
    """A failure the server listed under a key that no item of the batch has
    (a server that rewrote the key, say). Kept apart from ``failed``, whose
    ``item`` is always one of the items sent, so that nothing the server said
    is lost and nothing is typed as what it is not."""

    key: Hashable
    errors: tuple[ItemError, ...]

    @property
    def message(self) -> str:
        return _joined(self.errors)


class MultiStatusError(SDKError):
    """Raised by :meth:`MultiStatusResult.raise_for_failures`."""

    def __init__(self, result: MultiStatusResult[Any]) -> None:
        total = len(result.succeeded) + len(result.failed)
        what = []
        if result.failed:
            what.append(f"{len(result.failed)} of {total} items failed")
        if result.unmatched:
            what.append(f"{len(result.unmatched)} failures named keys no item has")
        first = (result.failed or result.unmatched)[0].message
        super().__init__(f"{' and '.join(what)} (HTTP {result.status_code}): {first}")
        self.result = result

    @property
    def failed(self) -> Sequence[FailedItem[Any]]:
        return self.result.failed

    @property
    def unmatched(self) -> Sequence[UnmatchedFailure]:
        return self.result.unmatched


@attrs.frozen
class MultiStatusResult(Generic[ItemT]):
    status_code: int
    succeeded: tuple[ItemT, ...]
    failed: tuple[FailedItem[ItemT], ...]
    response: httpx.Response | None = attrs.field(default=None, repr=False, eq=False)
    unmatched: tuple[UnmatchedFailure, ...] = ()

    @property
    def ok(self) -> bool:
        """Every item went through, and the server listed no failure at all."""
        return not self.failed and not self.unmatched

    @property
    def is_partial(self) -> bool:
        """Some items went through and something did not."""
        return bool(self.succeeded) and not self.ok

    def raise_for_failures(self) -> None:
        """:class:`MultiStatusError` unless :attr:`ok`."""
        if not self.ok:
            raise MultiStatusError(self)

    def _repr_html_(self) -> str:
        """The outcome, then a table of each item that failed and why, then what went through."""
        outcome = "all applied" if self.ok else "partial" if self.is_partial else "none applied"
        title = (
            f"HTTP {self.status_code}: {outcome}: {len(self.succeeded)} succeeded, "
            f"{len(self.failed)} failed"
        )
        if self.unmatched:
            title += f", {len(self.unmatched)} failures under keys no item has"
        parts = []
        if self.failed or self.unmatched:
            rows: list[tuple[object, str, str | None]] = [
                (f.item, e.message, e.code) for f in self.failed for e in f.errors
            ]
            rows += [(u.key, e.message, e.code) for u in self.unmatched for e in u.errors]
            parts.append(html_table(["item", "error", "code"], rows, caption="failed"))
        if self.succeeded:
            parts.append(html_records(self.succeeded, caption="succeeded"))
        return html_section(title, *parts)

    @classmethod
    def from_failures(
        cls,
        items: Iterable[ItemT],
        failures: Iterable[tuple[Hashable, Sequence[ItemError]]],
        *,
        key: Callable[[ItemT], Hashable],
        status_code: int,
        response: httpx.Response | None = None,
    ) -> MultiStatusResult[ItemT]:
        """Split ``items`` by the failures the server listed (matched by ``key``).

        A failure whose key matches no item is kept in ``unmatched``, so that
        nothing the server said is lost (and the result is not ``ok``). On a
        4xx (the whole batch refused) an item the server did not list has
        failed too.
        """
        refused = status_code >= 400
        items = list(items)
        by_key: dict[Hashable, list[ItemError]] = {}
        for k, errors in failures:
            by_key.setdefault(k, []).extend(errors)
        succeeded: list[ItemT] = []
        failed: list[FailedItem[ItemT]] = []
        matched: set[Hashable] = set()
        for item in items:
            k = key(item)
            if k in by_key:
                failed.append(FailedItem(item, tuple(by_key[k])))
                matched.add(k)
            elif refused:
                failed.append(FailedItem(item, (ItemError("not applied: the batch was refused"),)))
            else:
                succeeded.append(item)
        unmatched = tuple(
            UnmatchedFailure(k, tuple(errors)) for k, errors in by_key.items() if k not in matched
        )
        return cls(status_code, tuple(succeeded), tuple(failed), response, unmatched)
