"""What every compliance store's SQL shares: a page of a filtered query with
its total, and the site a partner owns (the one scoping check: another
partner's site is answered exactly as one that does not exist)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from ._errors import missing
from ._tables import sites

__all__ = ["owned_site", "page"]


async def page(
    conn: Any,
    query: sa.Select[Any],
    order: Sequence[sa.ColumnElement[Any] | sa.UnaryExpression[Any]],
    limit: int,
    offset: int,
) -> tuple[list[Any], int]:
    """``limit`` rows of ``query`` from ``offset`` in ``order``, and how many match in all."""
    total = (await conn.execute(sa.select(sa.func.count()).select_from(query.subquery()))).scalar()
    rows = (await conn.execute(query.order_by(*order).limit(limit).offset(offset))).all()
    return rows, int(total or 0)


async def owned_site(conn: Any, partner_id: str, site_id: str) -> Any:
    """The site row if it is ``partner_id``'s; 404 SITE_NOT_FOUND otherwise."""
    query = sa.select(sites).where(sites.c.id == site_id, sites.c.partner_id == partner_id)
    row = (await conn.execute(query)).first()
    if row is None:
        raise missing("site")
    return row
