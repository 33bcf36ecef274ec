"""The database as the stores see it: transactions, a liveness check, close.

On SQLite, transactions run on the fast path's one connection
(``_sqlite.py``); on any other database, on the async engine's pool. There,
a database that cannot be reached (refused, connections dropped, the pool
exhausted) is :class:`Unavailable`: every API answers it 503 in its error
format, and the transaction was not committed (nothing acknowledged is lost).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from .._errors import Unavailable
from ._engine import connect
from ._sqlite import SQLiteConnection

# What a database that drops its connections raises, besides any error met
# while connecting (which says nothing of the request: refused, shutting down,
# not accepting connections, out of pool).
_DROPPED = (sa.exc.OperationalError, sa.exc.InterfaceError)


@contextlib.asynccontextmanager
async def _reachable(transaction: AbstractAsyncContextManager[Any]) -> AsyncIterator[Any]:
    connected = False
    raised: BaseException | None = None  # by the caller's own code, inside the block
    try:
        async with transaction as conn:
            connected = True
            try:
                yield conn
            except BaseException as exc:
                raised = exc
                raise
    except sa.exc.DBAPIError as exc:
        if connected and not (exc.connection_invalidated or isinstance(exc, _DROPPED)):
            raise  # the statement's own fault (a constraint, a bug): not the database's
        raise Unavailable("the database is unavailable; retry later") from exc
    except (sa.exc.TimeoutError, sa.exc.DisconnectionError, OSError) as exc:
        if exc is raised and not isinstance(exc, ConnectionError | TimeoutError):
            raise  # the caller's own (a PermissionError is an OSError): not the database's
        raise Unavailable("the database is unavailable; retry later") from exc


def private_directory(path: Path) -> None:
    """``path`` as a directory only this user may enter (0700), made if missing."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)


class Database:
    def __init__(
        self,
        url: str,
        *,
        sqlite_synchronous: str = "NORMAL",
        pool_size: int = 10,
        max_overflow: int = 10,
    ) -> None:
        self.engine: AsyncEngine = connect(
            url, synchronous=sqlite_synchronous, pool_size=pool_size, max_overflow=max_overflow
        )
        self._sqlite = (
            SQLiteConnection(url, sqlite_synchronous)
            if self.engine.url.get_backend_name() == "sqlite"
            else None
        )

    def make_private(self) -> None:
        """On SQLite: the database's directory made (0700) if missing, and its
        file readable by this user alone (0600), as are the WAL and index that
        SQLite makes beside it with the file's mode. Nothing on other databases."""
        name = self.engine.url.database
        if self._sqlite is None or not name or name == ":memory:" or name.startswith("file:"):
            return
        path = Path(name)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        for name in (path.name, f"{path.name}-wal", f"{path.name}-shm", f"{path.name}-journal"):
            with contextlib.suppress(FileNotFoundError):
                (path.parent / name).chmod(0o600)

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.url.get_backend_name()

    def write(self) -> AbstractAsyncContextManager[Any]:
        """One transaction that changes state: committed on success, rolled back on error."""
        if self._sqlite is None:
            return _reachable(self.engine.begin())
        return self._sqlite.transaction(commit=True)

    def read(self) -> AbstractAsyncContextManager[Any]:
        """A consistent read (one snapshot)."""
        if self._sqlite is None:
            return _reachable(self.engine.connect())
        return self._sqlite.transaction(commit=False)

    async def ping(self) -> None:
        """A fresh connection and a query: is the database reachable right now?"""
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def close(self) -> None:
        """Close every connection (an app that starts again opens new ones)."""
        if self._sqlite is not None:
            await self._sqlite.close()
        await self.engine.dispose()
