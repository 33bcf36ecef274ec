"""The SQLite fast path: the store's one SQLite connection, used on the event loop.

Measured with benchmarks/bench_gateway.py: through aiosqlite a heartbeat
cost 14 thread round trips, and a claim held the write lock across several
of them while twenty other requests queued behind it (0.01x a bare route);
on a dedicated thread, still 0.02x. A statement on a local WAL database
takes tens of microseconds, less than one trip to a thread, so statements
run inline: a transaction never yields in the middle, and the lock is held
for the time the SQL really takes. SQLite has one writer at a time anyway.

Statements marked :func:`hot` (claims, results, counts) are compiled once by
SQLAlchemy and then run on the sqlite3 cursor directly (:class:`Plan`);
every other statement goes through SQLAlchemy as usual. Other databases use
the async engine instead (``storage/_database.py`` chooses).
"""

from __future__ import annotations

import asyncio
import collections
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.sql.compiler import SQLCompiler

from ._engine import connect_sync

__all__ = ["Plan", "SQLiteConnection", "hot"]

S = TypeVar("S", bound=sa.ClauseElement)


class _Buffered:
    """A statement's rows (or row count), fetched in full as it runs."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    @classmethod
    def of(cls, result: sa.CursorResult[Any]) -> _Buffered:
        return cls(list(result.all()) if result.returns_rows else [], result.rowcount)

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def all(self) -> list[Any]:
        return list(self._rows)

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        if len(self._rows) != 1:
            raise sa.exc.NoResultFound("expected exactly one row")
        return self._rows[0][0]


class Plan:
    """A hot statement compiled once for the sqlite3 driver: its SQL, the
    order of its parameters with SQLAlchemy's bind processors, the literal
    values SQLAlchemy bound itself, and a row type for its columns."""

    __slots__ = ("defaults", "names", "processors", "row", "sql")

    processors: tuple[tuple[int, Callable[[Any], Any]], ...]

    def __init__(self, statement: sa.ClauseElement, dialect: sa.Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        self.sql = compiled.string
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())
        processors = (
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in self.names
        )
        self.processors = tuple((i, p) for i, p in enumerate(processors) if p is not None)
        # Values the statement carries itself (``state == 'pending'``, ``LIMIT 1``);
        # the caller's are the ``p_`` ones.
        self.defaults = {
            name: bind.effective_value
            for name, bind in compiled.binds.items()
            if not name.startswith("p_")
        }
        columns = getattr(statement, "exported_columns", None) or ()
        for column in columns:
            if column.type.dialect_impl(dialect).result_processor(dialect, None) is not None:
                raise TypeError(f"{column}: needs a result processor, run it through SQLAlchemy")
        self.row: Any = None

    def values(self, params: dict[str, Any] | None) -> list[Any]:
        given = {**self.defaults, **params} if params else self.defaults
        values = [given[name] for name in self.names]
        for i, process in self.processors:
            if values[i] is not None:
                values[i] = process(values[i])
        return values

    def rows(self, cursor: sqlite3.Cursor) -> list[Any]:
        if cursor.description is None:
            return []
        if self.row is None:
            self.row = collections.namedtuple("Row", [d[0] for d in cursor.description])  # type: ignore[misc]
        make = self.row._make
        return [make(r) for r in cursor.fetchall()]


class _Transaction:
    """``async with``: the SQLite connection to oneself, then commit (a write
    that raised nothing) or roll back (an error, or a read). A class rather
    than a generator-based context manager: it runs twice per device request."""

    __slots__ = ("_commit", "_db")

    def __init__(self, db: SQLiteConnection, *, commit: bool) -> None:
        self._db = db
        self._commit = commit

    async def __aenter__(self) -> SQLiteConnection:
        await self._db.lock.acquire()
        return self._db

    async def __aexit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        try:
            await self._db.end(commit=self._commit and exc_type is None)
        finally:
            self._db.lock.release()


# The statements on the device hot path, prepared once (see SQLiteConnection).
_HOT: dict[int, sa.ClauseElement] = {}


def hot(statement: S) -> S:
    """Mark a module-level statement as prepared for the SQLite fast path."""
    _HOT[id(statement)] = statement
    return statement


class SQLiteConnection:
    """The one SQLite connection, used on the event loop itself.

    Only this process writes to the file while it serves (migrations run
    before), so the busy timeout is not met in practice. Hot statements run
    on the sqlite3 cursor: going through ``Connection.execute`` cost 30 to
    50 us of bookkeeping around a 5 to 20 us statement, a third of a claim's
    time on the server. Both kinds share the one DB-API connection and its
    transaction: ``end`` commits or rolls back both.
    """

    def __init__(self, url: str, synchronous: str) -> None:
        self._engine = connect_sync(url, synchronous=synchronous)
        self._conn: sa.Connection | None = None
        self._raw: sqlite3.Connection | None = None
        self._plans: dict[int, Plan] = {}
        self.lock = asyncio.Lock()

    def _connection(self) -> tuple[sa.Connection, sqlite3.Connection]:
        if self._conn is None or self._raw is None:
            self._conn = self._engine.connect()
            raw = self._conn.connection.driver_connection
            assert isinstance(raw, sqlite3.Connection)
            self._raw = raw
        return self._conn, self._raw

    async def execute(self, statement: Any, params: Any = None) -> _Buffered:
        conn, raw = self._connection()
        plan = self._plans.get(id(statement))
        if plan is None:
            if id(statement) not in _HOT:
                return _Buffered.of(conn.execute(statement, params))
            plan = self._plans[id(statement)] = Plan(statement, self._engine.dialect)
        cursor = raw.execute(plan.sql, plan.values(params))
        return _Buffered(plan.rows(cursor), cursor.rowcount)

    async def end(self, *, commit: bool) -> None:
        if self._conn is None or self._raw is None:
            return
        if self._conn.in_transaction():
            if commit:
                self._conn.commit()
            else:
                self._conn.rollback()
        if self._raw.in_transaction:  # begun by a hot statement alone
            if commit:
                self._raw.commit()
            else:
                self._raw.rollback()

    def transaction(self, *, commit: bool) -> _Transaction:
        return _Transaction(self, commit=commit)

    async def close(self) -> None:
        """Close the connection; the next transaction opens a new one."""
        if self._conn is not None:
            self._conn.close()
        self._conn = self._raw = None
        self._plans.clear()
        self._engine.dispose()
