"""Versioned schema: an append-only list of steps, applied in order.

Each step runs in its own transaction together with the version it brings
the database to, so a failed step leaves the database at the version before
it. A database newer than this code is refused rather than touched. On
PostgreSQL, several processes starting at once (``--workers``, or servers
behind one load balancer) take turns: each step's transaction holds an
advisory lock and reads the version again under it. The
server's one history of steps (every API's tables) is ``gateway_server._schema``;
this module knows nothing of any table but its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

__all__ = ["Migration", "SchemaTooNewError", "current_version", "migrate"]

Migration = Callable[[AsyncConnection], Any]

_metadata = sa.MetaData()
schema_version = sa.Table(
    "schema_version",
    _metadata,
    sa.Column("version", sa.Integer, nullable=False),
)


# The advisory lock the migrations of one PostgreSQL database take turns on (any
# constant of our own: "gateway" in ASCII).
_LOCK = 0x67617465776179


class SchemaTooNewError(RuntimeError):
    pass


async def current_version(conn: AsyncConnection) -> int:
    has_table = await conn.run_sync(lambda c: sa.inspect(c).has_table("schema_version"))
    if not has_table:
        return 0
    value = (await conn.execute(sa.select(sa.func.max(schema_version.c.version)))).scalar()
    return int(value or 0)


async def migrate(engine: AsyncEngine, migrations: Sequence[tuple[int, Migration]]) -> int:
    """Bring the schema to the newest version, one transaction per step."""
    async with engine.connect() as conn:
        version = await current_version(conn)
    newest = migrations[-1][0]
    if version > newest:
        raise SchemaTooNewError(
            f"database schema is version {version}, this server knows up to {newest}: "
            "refusing to run an older server on it"
        )
    for number, step in migrations:
        if number <= version:
            continue
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK)))
                version = await current_version(conn)  # another process may be there already
                if number <= version:
                    continue
            await conn.run_sync(lambda c: schema_version.create(c, checkfirst=True))
            await step(conn)
            await conn.execute(sa.delete(schema_version))
            await conn.execute(sa.insert(schema_version).values(version=number))
        version = number
    return version
