"""Sessions and their commands, as customers make them: open a session,
read it, enqueue commands, approve or reject them. Every method is one
transaction over the statements of ``_sql.py``; the decisions are ``_rules.py``'s."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from .._json import dumps
from .._settings import Settings
from ..storage import Database
from . import _sql as sql
from ._devices import DeviceStore
from ._errors import AlreadyProcessed, Unknown
from ._queue import PendingCounts
from ._records import NewCommand
from ._rules import (
    CommandState,
    check_new_session,
    check_owner,
    check_session_open,
    customer_status,
    decide,
    initial_state,
    page_length,
)

__all__ = ["SessionStore"]


class SessionStore:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        clock: Callable[[], float],
        devices: DeviceStore,
        pending: PendingCounts,
    ) -> None:
        self.database = database
        self.settings = settings
        self.now = clock
        self.devices = devices
        self.pending = pending

    async def create_session(
        self, customer_id: str, device_id: str, session_type: str, description: str | None
    ) -> Any:
        """A new session on the customer's active device (one live session per device)."""
        now = self.now()
        params = {
            "p_id": str(uuid.uuid4()),
            "p_customer_id": customer_id,
            "p_device_id": device_id,
            "p_type": session_type,
            "p_description": description,
            "p_now": now,
            "p_expires_at": now + self.settings.session_ttl,
        }
        async with self.database.write() as conn:
            device = await self.devices.owned(conn, customer_id, device_id)
            active = (await conn.execute(sql.ACTIVE_SESSION_OF_DEVICE, params)).scalar()
            check_new_session(device.status, active)
            await conn.execute(sql.NEW_SESSION, params)
            return (await conn.execute(sql.SESSION_BY_ID, {"p_session_id": params["p_id"]})).first()

    async def _owned(self, conn: Any, customer_id: str, session_id: str) -> Any:
        row = (await conn.execute(sql.SESSION_BY_ID, {"p_session_id": session_id})).first()
        check_owner(None if row is None else row.customer_id, customer_id, "session")
        return row

    async def get_session(
        self, customer_id: str, session_id: str, limit: int, offset: int
    ) -> tuple[Any, list[Any], int]:
        """The customer's session, a page of its commands (oldest first, cut
        by :func:`page_length`), and how many commands it has."""
        params = {"p_session_id": session_id, "p_limit": limit, "p_offset": offset}
        async with self.database.read() as conn:
            row = await self._owned(conn, customer_id, session_id)
            total = (await conn.execute(sql.COMMAND_COUNT, params)).scalar_one()
            sizes = [int(r[0]) for r in (await conn.execute(sql.RESULT_SIZES, params)).all()]
            params["p_limit"] = page_length(sizes)
            commands = (await conn.execute(sql.COMMANDS_OF_SESSION, params)).all() if sizes else []
        return row, commands, int(total)

    async def enqueue(
        self, customer_id: str, session_id: str, command_type: str, parameters: Any, priority: int
    ) -> NewCommand:
        now = self.now()
        command_id = str(uuid.uuid4())
        async with self.database.write() as conn:
            session = await self._owned(conn, customer_id, session_id)
            check_session_open(session.expires_at, now)
            state = initial_state(session.type)
            await conn.execute(
                sql.NEW_COMMAND,
                {
                    "p_id": command_id,
                    "p_device_id": session.device_id,
                    "p_session_id": session_id,
                    "p_customer_id": customer_id,
                    "p_type": command_type,
                    "p_parameters": dumps(parameters if parameters is not None else {}).decode(),
                    "p_priority": priority,
                    "p_state": state.value,
                    "p_claim_count": 0,
                    "p_created_at": now,
                    "p_updated_at": now,
                },
            )
        device_id = str(session.device_id)
        self.pending.forget(device_id)
        return NewCommand(command_id, command_type, priority, state, now, device_id)

    async def approve(
        self, customer_id: str, session_id: str, command_id: str, approved: bool, reason: str | None
    ) -> tuple[CommandState, str]:
        """The state the decision moved the command to, and its device."""
        now = self.now()
        async with self.database.write() as conn:
            await self._owned(conn, customer_id, session_id)
            row = (
                await conn.execute(
                    sql.COMMAND_IN_SESSION, {"p_command_id": command_id, "p_session_id": session_id}
                )
            ).first()
            if row is None:
                raise Unknown("command")
            state = decide(row.state, approved, customer_status(row.state, row.visible_until, now))
            done = await conn.execute(
                sql.DECIDE,
                {"p_seq": row.seq, "p_state": state.value, "p_reason": reason, "p_now": now},
            )
            if done.rowcount != 1:
                raise AlreadyProcessed("command already processed")
        self.pending.forget(str(row.device_id))
        return state, str(row.device_id)

    async def command(self, command_id: str) -> Any:
        """A command's row by id, or ``None`` (for live updates)."""
        async with self.database.read() as conn:
            return (await conn.execute(sql.BY_ID, {"p_command_id": command_id})).first()
