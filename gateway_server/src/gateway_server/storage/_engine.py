"""Engines: embedded SQLite by default (a file, WAL mode, a busy timeout),
PostgreSQL by URL (``postgresql+asyncpg://...``), both through SQLAlchemy."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

__all__ = ["connect", "connect_sync"]


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
    """A sync engine on the same SQLite file (the SQLite fast path's connection)."""
    sync_url = sa.engine.make_url(url).set(drivername="sqlite")
    engine = sa.create_engine(
        sync_url, poolclass=sa.pool.NullPool, connect_args={"check_same_thread": False}
    )
    _sqlite_pragmas(engine, synchronous)
    return engine


def connect(
    url: str, *, synchronous: str = "NORMAL", pool_size: int = 10, max_overflow: int = 10
) -> AsyncEngine:
    """The engine; for SQLite with WAL, a busy timeout and foreign keys on (its
    pool serves the few statements off the fast path: the sizes are for others)."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, pool_size=8, max_overflow=8)
        _sqlite_pragmas(engine.sync_engine, synchronous)
        return engine
    return create_async_engine(
        url, pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=True
    )
