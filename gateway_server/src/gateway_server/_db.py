"""Tables, engine and versioned schema.

SQLAlchemy Core over an async engine: embedded SQLite by default (a file
under the data directory, WAL mode, a busy timeout), PostgreSQL by URL
(``postgresql+asyncpg://...``). The schema is versioned: ``MIGRATIONS`` is an
append-only list applied in order, each in its own transaction, and a
database newer than this code is refused rather than touched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "commands", "connect", "devices", "migrate", "sessions"]

metadata = sa.MetaData()

schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, nullable=False),
)

devices = sa.Table(
    "devices",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("customer_id", sa.String(256), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("location", sa.String(200)),
    sa.Column("model", sa.String(200)),
    sa.Column("status", sa.String(20), nullable=False),  # provisioned | active | suspended
    sa.Column("activation_hash", sa.String(64)),
    sa.Column("activation_expires", sa.Float),
    sa.Column("secret_hash", sa.String(64)),
    sa.Column("registered_at", sa.Float),
    sa.Column("last_seen", sa.Float),
    sa.Column("reported_status", sa.String(20)),
    sa.Column("metrics", sa.Text),
    sa.Column("diagnostics", sa.Text),
    sa.Column("created_at", sa.Float, nullable=False),
)

device_tokens = sa.Table(
    "device_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("device_id", sa.String(64), nullable=False, index=True),
    sa.Column("expires_at", sa.Float, nullable=False),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("customer_id", sa.String(256), nullable=False, index=True),
    sa.Column("device_id", sa.String(64), nullable=False, index=True),
    sa.Column("type", sa.String(20), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)

commands = sa.Table(
    "commands",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(64), nullable=False, unique=True),
    sa.Column("device_id", sa.String(64), nullable=False),
    sa.Column("session_id", sa.String(64), nullable=False, index=True),
    sa.Column("customer_id", sa.String(256), nullable=False),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("parameters", sa.Text, nullable=False),
    sa.Column("priority", sa.Integer, nullable=False),
    # pending | awaiting_approval | rejected | completed | dead_letter
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("claim_token_hash", sa.String(64)),
    sa.Column("visible_until", sa.Float),
    sa.Column("claim_count", sa.Integer, nullable=False, default=0),
    sa.Column("result_status", sa.String(20)),
    sa.Column("output", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("executed_at", sa.String(40)),
    sa.Column("duration", sa.Float),
    sa.Column("decision_reason", sa.Text),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    # The claim order itself (priority high to low, then FIFO), so that a claim
    # walks the index and stops at the first visible command instead of sorting.
    sa.Index("ix_commands_claim_order", "device_id", "state", sa.desc("priority"), "seq"),
)

Migration = Callable[[AsyncConnection], Any]


async def _v1(conn: AsyncConnection) -> None:
    await conn.run_sync(metadata.create_all)


async def _v2(conn: AsyncConnection) -> None:
    """Claims sorted every pending command of a device (ix_commands_queue had
    priority ascending); index the claim order instead."""
    await conn.execute(sa.text("DROP INDEX IF EXISTS ix_commands_queue"))
    await conn.execute(
        sa.text(
            "CREATE INDEX IF NOT EXISTS ix_commands_claim_order "
            "ON commands (device_id, state, priority DESC, seq)"
        )
    )


MIGRATIONS: Sequence[tuple[int, Migration]] = ((1, _v1), (2, _v2))
SCHEMA_VERSION = MIGRATIONS[-1][0]


class SchemaTooNewError(RuntimeError):
    pass


async def current_version(conn: AsyncConnection) -> int:
    has_table = await conn.run_sync(lambda c: sa.inspect(c).has_table("schema_version"))
    if not has_table:
        return 0
    value = (await conn.execute(sa.select(sa.func.max(schema_version.c.version)))).scalar()
    return int(value or 0)


async def migrate(
    engine: AsyncEngine, migrations: Sequence[tuple[int, Migration]] = MIGRATIONS
) -> int:
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
            await step(conn)
            if number == 1:
                await conn.run_sync(lambda c: schema_version.create(c, checkfirst=True))
            await conn.execute(sa.delete(schema_version))
            await conn.execute(sa.insert(schema_version).values(version=number))
        version = number
    return version


def _sqlite_pragmas(engine: sa.Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def connect_sync(url: str, *, synchronous: str = "NORMAL") -> sa.Engine:
    """A sync engine on the same SQLite file (the store's inline connection)."""
    sync_url = sa.engine.make_url(url).set(drivername="sqlite")
    engine = sa.create_engine(
        sync_url, poolclass=sa.pool.NullPool, connect_args={"check_same_thread": False}
    )
    _sqlite_pragmas(engine, synchronous)
    return engine


def connect(url: str, *, synchronous: str = "NORMAL") -> AsyncEngine:
    """The engine; for SQLite with WAL, a busy timeout and foreign keys on."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, pool_size=8, max_overflow=8)
        _sqlite_pragmas(engine.sync_engine, synchronous)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
