"""The storage layer: every state change is one transaction.

Queue semantics (the device gateway addendum, exactly):

- Commands are claimed by priority (higher first), then first-in first-out.
- A claim marks up to ``limit`` visible commands with a fresh random claim
  token (stored hashed) and ``visible_until = now + visibility``; other claims
  skip them until then. An expired claim makes the command claimable again and
  its old token dead.
- Extend needs the current token and an unexpired claim.
- A result needs the current token and an unexpired claim. The same token
  again, after success, gets the same success answer; another token on a
  completed command gets 409.
- A command claimed ``max_claims`` times without a result goes to the
  dead-letter state on its next claim attempt, visible to its customer.
- Commands of a remediation session wait for approval; a rejected one is
  never claimable.

Claims and results use conditional UPDATEs (``WHERE state='pending' AND
visible_until <= now`` / ``AND claim_token_hash = ?``), so two claimers can
never both win, on SQLite or PostgreSQL. On SQLite, writers are also
serialised in-process (one writer at a time is all SQLite allows anyway), so
they queue instead of failing with "database is locked".
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import json
import sqlite3
import types
import uuid
from collections.abc import Callable, Collection
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import attrs
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.compiler import SQLCompiler

from . import _db as db
from ._errors import APIError, forbidden, not_found
from ._json import dumps
from ._security import activation_code, hash_secret, new_secret, same_hash
from ._settings import Settings

__all__ = ["ClaimedCommand", "Store", "iso"]

TOKEN_RECHECK = 10.0
S = TypeVar("S", bound=sa.ClauseElement)


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return (
        dt.datetime.fromtimestamp(ts, dt.UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


@attrs.frozen
class ClaimedCommand:
    id: str
    type: str
    parameters: Any
    priority: int
    claim_token: str
    visible_until: float

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "parameters": self.parameters,
            "priority": self.priority,
            "claimToken": self.claim_token,
            "visibleUntil": iso(self.visible_until),
        }


@attrs.frozen
class Completion:
    command_id: str
    status: str
    replayed: bool
    next_command: str | None


def command_status(row: Any, now: float) -> str:
    """The state a customer sees, derived from the row."""
    if row.state == "pending" and row.visible_until is not None and row.visible_until > now:
        return "claimed"
    return str(row.state)


def _notice(row: Any) -> dict[str, Any]:
    """A command as a device socket's ``command`` notice names it."""
    return {"id": row.id, "type": row.type, "priority": row.priority}


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


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


class _Plan:
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

    def __init__(self, db: _SQLiteConnection, *, commit: bool) -> None:
        self._db = db
        self._commit = commit

    async def __aenter__(self) -> _SQLiteConnection:
        await self._db.lock.acquire()
        return self._db

    async def __aexit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        try:
            await self._db.end(commit=self._commit and exc_type is None)
        finally:
            self._db.lock.release()


# The statements on the device hot path, prepared once (see _SQLiteConnection).
_HOT: dict[int, sa.ClauseElement] = {}


def hot(statement: S) -> S:
    """Mark a module-level statement as prepared for the SQLite fast path."""
    _HOT[id(statement)] = statement
    return statement


class _SQLiteConnection:
    """The store's one SQLite connection, used on the event loop itself.

    Measured with benchmarks/bench_gateway.py: through aiosqlite a heartbeat
    cost 14 thread round trips, and a claim held the write lock across several
    of them while twenty other requests queued behind it (0.01x a bare
    route); on a dedicated thread, still 0.02x. A statement on a local WAL
    database takes tens of microseconds, less than one trip to a thread, so
    statements run inline: a transaction never yields in the middle, and the
    lock is held for the time the SQL really takes. SQLite has one writer at a
    time anyway. Only the statements of this process use the file for writes
    (migrations run before serving), so the busy timeout is not met in
    practice; other databases use the async engine instead.

    The statements marked :func:`hot` (claims, results, counts) are compiled
    once by SQLAlchemy and then run on the sqlite3 cursor directly: going
    through ``Connection.execute`` cost 30 to 50 us of bookkeeping around
    a 5 to 20 us statement, a third of a claim's time on the server. Every
    other statement goes through SQLAlchemy as usual. Both share the one
    DB-API connection and its transaction: ``end`` commits or rolls back
    both.
    """

    def __init__(self, url: str, synchronous: str) -> None:
        self._engine = db.connect_sync(url, synchronous=synchronous)
        self._conn: sa.Connection | None = None
        self._raw: sqlite3.Connection | None = None
        self._plans: dict[int, _Plan] = {}
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
            plan = self._plans[id(statement)] = _Plan(statement, self._engine.dialect)
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

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._engine.dispose()


_c = db.commands.c


def _visible(c: Any) -> sa.ColumnElement[bool]:
    """Claimable now: this device's, pending, and not under a live claim."""
    return sa.and_(
        c.device_id == sa.bindparam("p_device_id"),
        c.state == "pending",
        sa.or_(c.visible_until.is_(None), c.visible_until <= sa.bindparam("p_now")),
    )


def _claim_order(c: Any) -> tuple[sa.UnaryExpression[Any], ...]:
    """The order commands are claimed in: by priority (higher first), then
    first in, first out; on ``c``, the table's or an alias's columns."""
    return (c.priority.desc(), c.seq.asc())


def _queue(c: Any, *columns: Any) -> sa.Select[Any]:
    """A device's commands claimable now, in claim order."""
    return sa.select(*columns).where(_visible(c)).order_by(*_claim_order(c))


def _head(c: Any, *columns: Any) -> sa.Select[Any]:
    """The head of a device's queue: the command the next claim takes."""
    return _queue(c, *columns).limit(1)


_VISIBLE = _visible(_c)
_H = db.commands.alias("head")
# Built once: building a statement costs more than running it on SQLite.
HEAD = hot(_head(_c, _c.seq, _c.id, _c.claim_count))
# The head taken in one statement, unless it has been claimed too often. On
# PostgreSQL the head is read with SKIP LOCKED, so concurrent claimers take
# different commands, and the outer WHERE re-checks visibility, so a command
# claimed in between is never taken twice. The claim columns are not indexed:
# a claim rewrites the row alone, no index entry.
TAKE_NEXT = hot(
    sa.update(db.commands)
    .where(
        _c.seq == _head(_H.c, _H.c.seq).with_for_update(skip_locked=True).scalar_subquery(),
        _VISIBLE,
        _c.claim_count < sa.bindparam("p_max_claims"),
    )
    .values(
        claim_token_hash=sa.bindparam("p_token_hash"),
        visible_until=sa.bindparam("p_until"),
        claim_count=_c.claim_count + 1,
        updated_at=sa.bindparam("p_now"),
    )
    .returning(_c.id, _c.type, _c.parameters, _c.priority)
)
BURY = hot(
    sa.update(db.commands)
    .where(_c.seq == sa.bindparam("p_seq"), _VISIBLE)
    .values(
        state="dead_letter",
        claim_token_hash=None,
        visible_until=None,
        updated_at=sa.bindparam("p_now"),
    )
)
COUNT_CLAIMABLE = hot(sa.select(sa.func.count()).select_from(db.commands).where(_VISIBLE))
BY_ID = hot(sa.select(db.commands).where(_c.id == sa.bindparam("p_command_id")))
# A result in one statement: this device's command, still claimed under this
# token, claim unexpired, completed; answering with the next command's id
# (the head of the queue, this command aside: PostgreSQL's subquery sees the
# row as it was before the update).
_NEXT_ID = _head(_H.c, _H.c.id).where(_H.c.id != sa.bindparam("p_command_id")).scalar_subquery()
FINISH = hot(
    sa.update(db.commands)
    .where(
        _c.id == sa.bindparam("p_command_id"),
        _c.device_id == sa.bindparam("p_device_id"),
        _c.state == "pending",
        _c.claim_token_hash == sa.bindparam("p_token_hash"),
        _c.visible_until > sa.bindparam("p_now"),
    )
    .values(
        state="completed",
        result_status=sa.bindparam("p_result_status"),
        output=sa.bindparam("p_output"),
        error=sa.bindparam("p_error"),
        executed_at=sa.bindparam("p_executed_at"),
        duration=sa.bindparam("p_duration"),
        visible_until=None,
        updated_at=sa.bindparam("p_now"),
    )
    .returning(_NEXT_ID.label("next_id"))
)

# Customer paths that run per command: a session by id, a new command.
SESSION_BY_ID = hot(sa.select(db.sessions).where(db.sessions.c.id == sa.bindparam("p_session_id")))
_NEW_COMMAND_COLUMNS = (
    "id", "device_id", "session_id", "customer_id", "type", "parameters",
    "priority", "state", "claim_count", "created_at", "updated_at",
)  # fmt: skip
NEW_COMMAND = hot(
    sa.insert(db.commands).values({c: sa.bindparam(f"p_{c}") for c in _NEW_COMMAND_COLUMNS})
)


class Store:
    def __init__(self, engine: AsyncEngine, settings: Settings, clock: Callable[[], float]) -> None:
        self.engine = engine
        self.settings = settings
        self.now = clock
        self._sqlite = (
            _SQLiteConnection(
                engine.url.render_as_string(hide_password=False), settings.sqlite_synchronous
            )
            if engine.url.get_backend_name() == "sqlite"
            else None
        )
        # Session tokens already verified: token hash -> (device, customer, expires, recheck at).
        # A token is re-read from the database at most every TOKEN_RECHECK seconds, so a
        # suspension or revocation made elsewhere takes effect within that time.
        self._tokens: dict[str, tuple[str, str, float, float]] = {}
        # Heartbeat telemetry waiting to be written (flush_heartbeats, once a second).
        self._beats: dict[str, dict[str, Any]] = {}
        # Pending-command counts reported by heartbeats, recomputed at most once a second.
        self._pending: dict[str, tuple[int, float]] = {}

    def write(self) -> AbstractAsyncContextManager[Any]:
        """One transaction that changes state: committed on success, rolled back on error."""
        if self._sqlite is None:
            return self.engine.begin()
        return _Transaction(self._sqlite, commit=True)

    def read(self) -> AbstractAsyncContextManager[Any]:
        """A consistent read (one snapshot)."""
        if self._sqlite is None:
            return self.engine.connect()
        return _Transaction(self._sqlite, commit=False)

    async def ping(self) -> None:
        """A fresh connection and a query: is the database reachable right now?"""
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def close(self) -> None:
        if self._sqlite is not None:
            await self._sqlite.close()

    # -- customers: devices ---------------------------------------------------------
    async def provision(
        self, customer_id: str, device_id: str, name: str | None, location: str | None
    ) -> tuple[str, float]:
        code = activation_code()
        now = self.now()
        expires = now + self.settings.activation_ttl
        async with self.write() as conn:
            exists = await conn.execute(
                sa.select(db.devices.c.id).where(db.devices.c.id == device_id)
            )
            if exists.first() is not None:
                raise APIError(409, "DEVICE_EXISTS", f"device {device_id} already exists")
            await conn.execute(
                sa.insert(db.devices).values(
                    id=device_id,
                    customer_id=customer_id,
                    name=name or device_id,
                    location=location,
                    status="provisioned",
                    activation_hash=hash_secret(code),
                    activation_expires=expires,
                    created_at=now,
                )
            )
        return code, expires

    async def _owned_device(self, conn: Any, customer_id: str, device_id: str) -> Any:
        row = (
            await conn.execute(sa.select(db.devices).where(db.devices.c.id == device_id))
        ).first()
        if row is None:
            raise not_found("device")
        if row.customer_id != customer_id:
            raise forbidden("device not owned by customer")
        return row

    def _online(self, last_seen: float | None, now: float) -> bool:
        window = 3 * self.settings.heartbeat_interval_ms / 1000
        return last_seen is not None and now - last_seen <= window

    async def list_devices(
        self, customer_id: str, status: str, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        await self.flush_heartbeats()  # the online/offline filter reads last_seen
        now = self.now()
        window = 3 * self.settings.heartbeat_interval_ms / 1000
        query = sa.select(db.devices).where(db.devices.c.customer_id == customer_id)
        if status == "online":
            query = query.where(db.devices.c.last_seen >= now - window)
        elif status == "offline":
            query = query.where(
                sa.or_(db.devices.c.last_seen.is_(None), db.devices.c.last_seen < now - window)
            )
        async with self.read() as conn:
            total = (
                await conn.execute(sa.select(sa.func.count()).select_from(query.subquery()))
            ).scalar_one()
            rows = (
                await conn.execute(query.order_by(db.devices.c.id).limit(limit).offset(offset))
            ).all()
        rows = [self._with_beat(r.id, r) for r in rows]
        return [
            {
                "id": r.id,
                "name": r.name,
                "status": self._device_status(r, now),
                "lastSeen": iso(r.last_seen),
                "location": r.location,
            }
            for r in rows
        ], int(total)

    def _device_status(self, row: Any, now: float) -> str:
        if row.status != "active":
            return str(row.status)
        if not self._online(row.last_seen, now):
            return "offline"
        return str(row.reported_status or "online")

    async def device_status(self, customer_id: str, device_id: str) -> dict[str, Any]:
        now = self.now()
        async with self.read() as conn:
            row = self._with_beat(device_id, await self._owned_device(conn, customer_id, device_id))
            session = (
                await conn.execute(
                    sa.select(db.sessions.c.id)
                    .where(db.sessions.c.device_id == device_id, db.sessions.c.expires_at > now)
                    .order_by(db.sessions.c.created_at.desc())
                    .limit(1)
                )
            ).scalar()
            dead = (
                await conn.execute(
                    sa.select(sa.func.count())
                    .select_from(db.commands)
                    .where(
                        db.commands.c.device_id == device_id, db.commands.c.state == "dead_letter"
                    )
                )
            ).scalar_one()
        return {
            "id": row.id,
            "status": self._device_status(row, now),
            "lastHeartbeat": iso(row.last_seen),
            "metrics": _loads(row.metrics),
            "diagnostics": _loads(row.diagnostics),
            "activeSession": session,
            "deadLetterCommands": int(dead),
        }

    async def owns_device(self, customer_id: str, device_id: str) -> bool:
        async with self.read() as conn:
            owner = (
                await conn.execute(
                    sa.select(db.devices.c.customer_id).where(db.devices.c.id == device_id)
                )
            ).scalar()
        return bool(owner == customer_id)

    # -- devices: registration and auth ----------------------------------------------
    async def register(
        self, device_id: str, code: str, metadata: dict[str, Any] | None
    ) -> tuple[dict[str, Any], str]:
        secret = new_secret(32)
        now = self.now()
        async with self.write() as conn:
            row = (
                await conn.execute(sa.select(db.devices).where(db.devices.c.id == device_id))
            ).first()
            if row is None:
                raise APIError(404, "DEVICE_NOT_PROVISIONED", "device not pre-provisioned")
            if row.status != "provisioned":
                raise APIError(409, "DEVICE_ALREADY_REGISTERED", "device already registered")
            if row.activation_expires is None or row.activation_expires <= now:
                raise APIError(401, "ACTIVATION_CODE_EXPIRED", "activation code expired")
            if not same_hash(row.activation_hash, code):
                raise APIError(401, "INVALID_ACTIVATION_CODE", "invalid activation code")
            metadata = metadata or {}
            # Burn the code in the same transaction that registers: it cannot work twice.
            result = await conn.execute(
                sa.update(db.devices)
                .where(db.devices.c.id == device_id, db.devices.c.status == "provisioned")
                .values(
                    status="active",
                    activation_hash=None,
                    activation_expires=None,
                    secret_hash=hash_secret(secret),
                    registered_at=now,
                    location=metadata.get("location") or row.location,
                    model=metadata.get("model"),
                )
            )
            if result.rowcount != 1:
                raise APIError(409, "DEVICE_ALREADY_REGISTERED", "device already registered")
        device = {
            "id": device_id,
            "status": "active",
            "customerId": row.customer_id,
            "registeredAt": iso(now),
        }
        return device, secret

    async def authenticate(self, device_id: str, secret: str) -> tuple[str, int]:
        now = self.now()
        token = new_secret(32)
        ttl = self.settings.device_token_ttl
        async with self.write() as conn:
            row = (
                await conn.execute(sa.select(db.devices).where(db.devices.c.id == device_id))
            ).first()
            if row is None or not same_hash(row.secret_hash, secret):
                raise APIError(401, "INVALID_DEVICE_CREDENTIALS", "invalid device credentials")
            if row.status != "active":
                raise APIError(403, "DEVICE_INACTIVE", f"device is {row.status}")
            await conn.execute(
                sa.delete(db.device_tokens).where(db.device_tokens.c.expires_at <= now)
            )
            await conn.execute(
                sa.insert(db.device_tokens).values(
                    token_hash=hash_secret(token), device_id=device_id, expires_at=now + ttl
                )
            )
        return token, ttl

    async def check_device_secret(self, device_id: str, secret: str) -> bool:
        async with self.read() as conn:
            row = (
                await conn.execute(sa.select(db.devices).where(db.devices.c.id == device_id))
            ).first()
        return row is not None and row.status == "active" and same_hash(row.secret_hash, secret)

    async def device_for_token(self, token: str) -> tuple[str, str] | None:
        """(device id, customer id) of a live session token, else ``None``."""
        key = hash_secret(token)
        now = self.now()
        cached = self._tokens.get(key)
        if cached is not None and now < cached[3]:
            return (cached[0], cached[1]) if now < cached[2] else None
        found = await self._read_token(key)
        if found is None:
            self._tokens.pop(key, None)
            return None
        device_id, customer_id, expires = found
        if len(self._tokens) >= 100_000:
            self._tokens.clear()
        self._tokens[key] = (device_id, customer_id, expires, now + TOKEN_RECHECK)
        return (device_id, customer_id) if now < expires else None

    def forget_tokens(self, device_id: str | None = None) -> None:
        """Drop cached token checks (all, or one device's): the next use re-reads them."""
        if device_id is None:
            self._tokens.clear()
        else:
            self._tokens = {k: v for k, v in self._tokens.items() if v[0] != device_id}

    async def revoke_tokens(self, device_id: str) -> None:
        """End every session of a device at once."""
        async with self.write() as conn:
            await conn.execute(
                sa.delete(db.device_tokens).where(db.device_tokens.c.device_id == device_id)
            )
        self.forget_tokens(device_id)

    async def _read_token(self, key: str) -> tuple[str, str, float] | None:
        async with self.read() as conn:
            row = (
                await conn.execute(
                    sa.select(
                        db.device_tokens.c.device_id,
                        db.device_tokens.c.expires_at,
                        db.devices.c.customer_id,
                        db.devices.c.status,
                    )
                    .join(db.devices, db.devices.c.id == db.device_tokens.c.device_id)
                    .where(db.device_tokens.c.token_hash == key)
                )
            ).first()
        if row is None or row.status != "active":
            return None
        return str(row.device_id), str(row.customer_id), float(row.expires_at)

    # -- devices: heartbeat and queue ------------------------------------------------------
    async def _claimable_count(self, conn: Any, device_id: str, now: float) -> int:
        result = await conn.execute(COUNT_CLAIMABLE, {"p_device_id": device_id, "p_now": now})
        return int(result.scalar_one())

    async def heartbeat(self, device_id: str, status: str, metrics: Any, diagnostics: Any) -> int:
        """Record a heartbeat; answer the device's claimable-command count.

        Telemetry (last seen, status, metrics, diagnostics) is buffered and
        written by :meth:`flush_heartbeats` once a second, in one transaction
        for every device; reads of device status see the buffer at once. It is
        telemetry, not a state change anyone was promised: a crash loses at most
        the last second of it. The count is recomputed at most once a second.
        """
        now = self.now()
        beat = self._beats.setdefault(device_id, {})
        beat.update(last_seen=now, reported_status=status)
        if metrics is not None:
            beat["metrics"] = dumps(metrics).decode()
        if diagnostics is not None:
            beat["diagnostics"] = dumps(diagnostics).decode()
        cached = self._pending.get(device_id)
        if cached is not None and now - cached[1] < 1.0:
            return cached[0]
        async with self.read() as conn:
            count = await self._claimable_count(conn, device_id, now)
        self._pending[device_id] = (count, now)
        return count

    async def flush_heartbeats(self) -> int:
        """Write buffered heartbeat telemetry; the number of devices written."""
        if not self._beats:
            return 0
        beats, self._beats = self._beats, {}
        async with self.write() as conn:
            for device_id, values in beats.items():
                await conn.execute(
                    sa.update(db.devices).where(db.devices.c.id == device_id).values(**values)
                )
        return len(beats)

    def _with_beat(self, device_id: str, row: Any) -> Any:
        beat = self._beats.get(device_id)
        if not beat:
            return row
        return types.SimpleNamespace(**{**row._mapping, **beat})

    def _forget_pending(self, device_id: str) -> None:
        self._pending.pop(device_id, None)

    async def claim(
        self, device_id: str, limit: int, visibility_ms: int
    ) -> tuple[list[ClaimedCommand], list[str]]:
        """Claimed commands, and the ids of commands moved to the dead-letter state."""
        self._forget_pending(device_id)
        now = self.now()
        visible_until = now + visibility_ms / 1000
        claimed: list[ClaimedCommand] = []
        dead: list[str] = []
        params = {
            "p_device_id": device_id,
            "p_now": now,
            "p_until": visible_until,
            "p_max_claims": self.settings.max_claims,
        }
        misses = 0
        async with self.write() as conn:
            while len(claimed) < limit:
                token = new_secret(24)
                params["p_token_hash"] = hash_secret(token)
                row = (await conn.execute(TAKE_NEXT, params)).first()
                if row is not None:
                    claimed.append(
                        ClaimedCommand(
                            row.id,
                            row.type,
                            _loads(row.parameters),
                            row.priority,
                            token,
                            visible_until,
                        )
                    )
                    continue
                # Nothing taken: an empty queue, a head claimed too often (it goes to
                # the dead-letter state), or (with concurrent writers) a head taken
                # between this statement's read and its write: look again, a few times.
                head = (await conn.execute(HEAD, params)).first()
                if head is None:
                    break
                if head.claim_count >= self.settings.max_claims:
                    moved = await conn.execute(BURY, {**params, "p_seq": head.seq})
                    if moved.rowcount == 1:
                        dead.append(head.id)
                    continue
                misses += 1
                if misses > 3:
                    break
        return claimed, dead

    async def claimable(self, device_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """The device's commands claimable now, in claim order (at most ``limit``),
        as the ``command`` notices a device socket receives."""
        query = (
            _queue(_c, _c.id, _c.type, _c.priority)
            .where(_c.claim_count < self.settings.max_claims)
            .limit(limit)
        )
        async with self.read() as conn:
            rows = (
                await conn.execute(query, {"p_device_id": device_id, "p_now": self.now()})
            ).all()
        return [_notice(row) for row in rows]

    async def claims_run_out(
        self, device_ids: Collection[str], since: float, until: float
    ) -> list[tuple[str, dict[str, Any]]]:
        """(device id, notice) of these devices' commands whose claim ran out in
        (``since``, ``until``]: claimable again, nobody told."""
        if not device_ids:
            return []
        query = (
            sa.select(_c.device_id, _c.id, _c.type, _c.priority)
            .where(
                _c.device_id.in_(list(device_ids)),
                _c.state == "pending",
                _c.visible_until > since,
                _c.visible_until <= until,
                _c.claim_count < self.settings.max_claims,
            )
            .order_by(*_claim_order(_c))
        )
        async with self.read() as conn:
            rows = (await conn.execute(query)).all()
        return [(str(row.device_id), _notice(row)) for row in rows]

    async def _command_for_device(self, conn: Any, device_id: str, command_id: str) -> Any:
        row = (await conn.execute(BY_ID, {"p_command_id": command_id})).first()
        if row is None or row.device_id != device_id:
            raise not_found("command")
        return row

    async def extend(self, device_id: str, command_id: str, token: str, extension_ms: int) -> float:
        now = self.now()
        c = db.commands.c
        async with self.write() as conn:
            row = await self._command_for_device(conn, device_id, command_id)
            if row.state != "pending" or not same_hash(row.claim_token_hash, token):
                raise APIError(
                    403, "INVALID_CLAIM_TOKEN", "invalid claim token or command no longer claimed"
                )
            if row.visible_until is None or row.visible_until <= now:
                raise APIError(403, "CLAIM_EXPIRED", "the claim has expired")
            visible_until = now + extension_ms / 1000
            updated = await conn.execute(
                sa.update(db.commands)
                .where(
                    c.seq == row.seq,
                    c.claim_token_hash == row.claim_token_hash,
                    c.visible_until > now,
                )
                .values(visible_until=visible_until, updated_at=now)
            )
            if updated.rowcount != 1:
                raise APIError(403, "CLAIM_EXPIRED", "the claim has expired")
        return visible_until

    async def complete(
        self, device_id: str, command_id: str, token: str, result: dict[str, Any]
    ) -> Completion:
        self._forget_pending(device_id)
        now = self.now()
        async with self.write() as conn:
            # The usual case in one statement (FINISH); anything else: read the
            # command to say why.
            done = await conn.execute(
                FINISH,
                {
                    "p_command_id": command_id,
                    "p_device_id": device_id,
                    "p_token_hash": hash_secret(token),
                    "p_now": now,
                    "p_result_status": result["status"],
                    "p_output": result.get("output"),
                    "p_error": result.get("error"),
                    "p_executed_at": result["executedAt"],
                    "p_duration": result["duration"],
                },
            )
            finished = done.first()
            if finished is not None:
                next_id = None if finished.next_id is None else str(finished.next_id)
                return Completion(command_id, result["status"], False, next_id)
            row = await self._command_for_device(conn, device_id, command_id)
            if row.state == "completed":
                if same_hash(row.claim_token_hash, token):  # the same result sent again
                    next_id = await self._next_command(conn, device_id, now)
                    return Completion(row.id, str(row.result_status), True, next_id)
                raise APIError(
                    409, "ALREADY_COMPLETED", "command already completed by another claim"
                )
            if row.state != "pending" or not same_hash(row.claim_token_hash, token):
                raise APIError(403, "INVALID_CLAIM_TOKEN", "invalid claim token")
            raise APIError(
                403, "CLAIM_EXPIRED", "the claim has expired; the command is claimable again"
            )

    async def _next_command(self, conn: Any, device_id: str, now: float) -> str | None:
        head = (await conn.execute(HEAD, {"p_device_id": device_id, "p_now": now})).first()
        return None if head is None else str(head.id)

    # -- customers: sessions and commands ---------------------------------------------------
    async def create_session(
        self, customer_id: str, device_id: str, session_type: str, description: str | None
    ) -> dict[str, Any]:
        now = self.now()
        session_id = str(uuid.uuid4())
        expires = now + self.settings.session_ttl
        async with self.write() as conn:
            device = await self._owned_device(conn, customer_id, device_id)
            if device.status != "active":
                raise APIError(409, "DEVICE_NOT_ACTIVE", f"device is {device.status}")
            active = (
                await conn.execute(
                    sa.select(db.sessions.c.id).where(
                        db.sessions.c.device_id == device_id, db.sessions.c.expires_at > now
                    )
                )
            ).first()
            if active is not None:
                raise APIError(
                    409,
                    "SESSION_EXISTS",
                    "an active session already exists for this device",
                    {"sessionId": active.id},
                )
            await conn.execute(
                sa.insert(db.sessions).values(
                    id=session_id,
                    customer_id=customer_id,
                    device_id=device_id,
                    type=session_type,
                    description=description,
                    created_at=now,
                    expires_at=expires,
                )
            )
        return {
            "id": session_id,
            "deviceId": device_id,
            "type": session_type,
            "status": "active",
            "createdAt": iso(now),
            "expiresAt": iso(expires),
        }

    async def _owned_session(self, conn: Any, customer_id: str, session_id: str) -> Any:
        row = (await conn.execute(SESSION_BY_ID, {"p_session_id": session_id})).first()
        if row is None:
            raise not_found("session")
        if row.customer_id != customer_id:
            raise forbidden("session not owned by customer")
        return row

    def _command_json(self, row: Any, now: float) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": row.id,
            "type": row.type,
            "priority": row.priority,
            "status": command_status(row, now),
            "claimCount": row.claim_count,
            "createdAt": iso(row.created_at),
        }
        if row.state == "completed":
            out["result"] = {
                "status": row.result_status,
                "output": row.output,
                "error": row.error,
                "executedAt": row.executed_at,
                "duration": row.duration,
            }
        elif row.state == "rejected" and row.decision_reason:
            out["result"] = {"reason": row.decision_reason}
        return out

    async def get_session(self, customer_id: str, session_id: str) -> dict[str, Any]:
        now = self.now()
        async with self.read() as conn:
            row = await self._owned_session(conn, customer_id, session_id)
            cmds = (
                await conn.execute(
                    sa.select(db.commands)
                    .where(db.commands.c.session_id == session_id)
                    .order_by(db.commands.c.seq)
                )
            ).all()
        return {
            "id": row.id,
            "deviceId": row.device_id,
            "type": row.type,
            "status": "active" if row.expires_at > now else "expired",
            "createdAt": iso(row.created_at),
            "expiresAt": iso(row.expires_at),
            "commands": [self._command_json(c, now) for c in cmds],
        }

    async def enqueue(
        self, customer_id: str, session_id: str, command_type: str, parameters: Any, priority: int
    ) -> tuple[dict[str, Any], str, bool]:
        """The new command, its device, and whether it is claimable now."""
        now = self.now()
        command_id = str(uuid.uuid4())
        async with self.write() as conn:
            session = await self._owned_session(conn, customer_id, session_id)
            if session.expires_at <= now:
                raise APIError(409, "SESSION_EXPIRED", "the session has expired")
            state = "awaiting_approval" if session.type == "remediation" else "pending"
            await conn.execute(
                NEW_COMMAND,
                {
                    "p_id": command_id,
                    "p_device_id": session.device_id,
                    "p_session_id": session_id,
                    "p_customer_id": customer_id,
                    "p_type": command_type,
                    "p_parameters": dumps(parameters if parameters is not None else {}).decode(),
                    "p_priority": priority,
                    "p_state": state,
                    "p_claim_count": 0,
                    "p_created_at": now,
                    "p_updated_at": now,
                },
            )
        command = {
            "id": command_id,
            "type": command_type,
            "priority": priority,
            "status": state,
            "claimCount": 0,
            "createdAt": iso(now),
        }
        self._forget_pending(str(session.device_id))
        return command, str(session.device_id), state == "pending"

    async def approve(
        self, customer_id: str, session_id: str, command_id: str, approved: bool, reason: str | None
    ) -> tuple[str, str]:
        """('approved' | 'rejected', device id)."""
        now = self.now()
        c = db.commands.c
        async with self.write() as conn:
            await self._owned_session(conn, customer_id, session_id)
            row = (
                await conn.execute(
                    sa.select(db.commands).where(c.id == command_id, c.session_id == session_id)
                )
            ).first()
            if row is None:
                raise not_found("command")
            if row.state != "awaiting_approval":
                raise APIError(
                    409,
                    "ALREADY_PROCESSED",
                    f"command already processed ({command_status(row, now)})",
                )
            new_state = "pending" if approved else "rejected"
            done = await conn.execute(
                sa.update(db.commands)
                .where(c.seq == row.seq, c.state == "awaiting_approval")
                .values(state=new_state, decision_reason=reason, updated_at=now)
            )
            if done.rowcount != 1:
                raise APIError(409, "ALREADY_PROCESSED", "command already processed")
        self._forget_pending(str(row.device_id))
        return ("approved" if approved else "rejected"), str(row.device_id)

    async def command_update(self, command_id: str) -> dict[str, Any] | None:
        now = self.now()
        async with self.read() as conn:
            row = (
                await conn.execute(sa.select(db.commands).where(db.commands.c.id == command_id))
            ).first()
        if row is None:
            return None
        data = self._command_json(row, now)
        data["deviceId"] = row.device_id
        data["sessionId"] = row.session_id
        return data
