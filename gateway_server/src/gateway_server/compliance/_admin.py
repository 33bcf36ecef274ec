"""What the server's operator does from the command line, beside the REST
API: an enrollment token for a site (``gateway-server enrollment-token``),
named by its id or, when no other partner's site has it, its name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from . import _tables as t
from ._errors import missing
from ._views import token_json

if TYPE_CHECKING:
    from ._api import Compliance

__all__ = ["enrollment_token"]

_s = t.sites.c


async def _site(api: Compliance, site: str) -> Any:
    query = sa.select(t.sites).where(sa.or_(_s.id == site, _s.name_key == site.casefold()))
    async with api.services.database.read() as conn:
        rows = (await conn.execute(query)).all()
    if not rows:
        raise missing("site")
    if len(rows) > 1:
        raise ValueError(f"{len(rows)} sites are named {site!r}: give the site's id")
    return rows[0]


async def enrollment_token(
    api: Compliance, site: str, ttl: int, max_uses: int | None, description: str | None
) -> dict[str, Any]:
    """A new token of ``site`` (its record as the REST API shows it, the token
    and the CA certificate, as ``POST .../enrollment-tokens`` answers)."""
    row = await _site(api, site)
    record, token = await api.sites.create_token(
        row.partner_id,
        row.id,
        created_by=None,
        description=description,
        ttl=ttl,
        max_uses=max_uses,
    )
    shown = token_json(record, api.services.clock(), api.ca.fingerprint())
    return {**shown, "token": token, "ca_cert_pem": api.ca.cert_pem()}
