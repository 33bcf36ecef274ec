"""The server's one migration history: every step of every API, in order.

One database holds every API's tables, so there is one version number and one
list. Append only: a released step is never edited; a change is a new step.
A step that creates tables from their current definition (version 1) is
followed by steps written to be safe on tables that already have the change
(``IF NOT EXISTS``), so a new database and an upgraded one end up the same.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncEngine

from . import compliance, device_gateway
from .storage import Migration, migrate

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "upgrade"]

MIGRATIONS: Sequence[tuple[int, Migration]] = (
    (1, device_gateway.create_tables),
    (2, device_gateway.index_claim_order),
    (3, compliance.create_tables),
    (4, compliance.seed_library),
    (5, device_gateway.index_run_outs),
    (6, compliance.create_channel_tables),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]


async def upgrade(engine: AsyncEngine) -> int:
    """Bring the database to :data:`SCHEMA_VERSION`."""
    return await migrate(engine, MIGRATIONS)
