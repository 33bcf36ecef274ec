"""Devices and their session tokens: provisioning, registration, device auth,
token checks, and what a customer reads of its devices. Every method is one
transaction over the statements of ``_sql.py``; the decisions are ``_rules.py``'s."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._settings import Settings
from ..events import Broker, Invalidations
from ..security import activation_code, hash_secret, new_secret, same_hash
from ..storage import Database
from . import _sql as sql
from ._errors import (
    DeviceAlreadyRegistered,
    DeviceExists,
    DeviceInactive,
    DeviceNotProvisioned,
    InvalidDeviceCredentials,
)
from ._rules import DeviceState, check_owner, check_registration, online_since
from ._telemetry import Telemetry

__all__ = ["DeviceStore", "TOKEN_RECHECK"]

TOKEN_RECHECK = 10.0
"""Seconds a verified session token is trusted before it is read again, so a
change made elsewhere without a notice takes effect within that time.
:meth:`DeviceStore.revoke_tokens` notifies every process through the broker
(``tokens:revoked``): there the refusal is immediate."""


class DeviceStore:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        clock: Callable[[], float],
        telemetry: Telemetry,
        broker: Broker,
    ) -> None:
        self.database = database
        self.settings = settings
        self.now = clock
        self.telemetry = telemetry
        # Session tokens already verified: token hash -> (device, customer, expires, recheck at).
        self._tokens: dict[str, tuple[str, str, float, float]] = {}
        self._revoked = Invalidations(broker, "tokens:revoked", self.forget_tokens)

    # -- customers: provisioning and reading ----------------------------------------------
    async def provision(
        self, customer_id: str, device_id: str, name: str | None, location: str | None
    ) -> tuple[str, float]:
        """A new device of ``customer_id``; its one-time activation code and when it expires."""
        code = activation_code()
        now = self.now()
        expires = now + self.settings.activation_ttl
        async with self.database.write() as conn:
            if (await conn.execute(sql.DEVICE_BY_ID, {"p_device_id": device_id})).first():
                raise DeviceExists(f"device {device_id} already exists")
            await conn.execute(
                sql.NEW_DEVICE,
                {
                    "p_id": device_id,
                    "p_customer_id": customer_id,
                    "p_name": name or device_id,
                    "p_location": location,
                    "p_activation_hash": hash_secret(code),
                    "p_expires_at": expires,
                    "p_now": now,
                },
            )
        return code, expires

    async def owned(self, conn: Any, customer_id: str, device_id: str) -> Any:
        """The device row, if it is ``customer_id``'s (within a transaction)."""
        row = (await conn.execute(sql.DEVICE_BY_ID, {"p_device_id": device_id})).first()
        check_owner(None if row is None else row.customer_id, customer_id, "device")
        return row

    async def owns_device(self, customer_id: str, device_id: str) -> bool:
        async with self.database.read() as conn:
            owner = (await conn.execute(sql.DEVICE_OWNER, {"p_device_id": device_id})).scalar()
        return bool(owner == customer_id)

    async def list_devices(
        self, customer_id: str, status: str, limit: int, offset: int
    ) -> tuple[list[Any], int]:
        """A page of the customer's devices (``status``: online, offline or all), and the total."""
        await self.telemetry.flush()  # the online/offline filter reads last_seen
        count, page = sql.DEVICES_PAGE[status]
        params = {
            "p_customer_id": customer_id,
            "p_since": online_since(self.now(), self.settings.heartbeat_interval_ms),
            "p_limit": limit,
            "p_offset": offset,
        }
        async with self.database.read() as conn:
            total = (await conn.execute(count, params)).scalar_one()
            rows = (await conn.execute(page, params)).all()
        return [self.telemetry.overlay(r) for r in rows], int(total)

    async def device_status(self, customer_id: str, device_id: str) -> tuple[Any, str | None, int]:
        """The device row (with buffered telemetry), its live session, its dead letters."""
        params = {"p_device_id": device_id, "p_now": self.now()}
        async with self.database.read() as conn:
            row = self.telemetry.overlay(await self.owned(conn, customer_id, device_id))
            session = (await conn.execute(sql.ACTIVE_SESSION_OF_DEVICE, params)).scalar()
            dead = (await conn.execute(sql.DEAD_LETTER_COUNT, params)).scalar_one()
        return row, session, int(dead)

    # -- devices: registration and auth ----------------------------------------------------
    async def register(
        self, device_id: str, code: str, metadata: dict[str, Any] | None
    ) -> tuple[Any, str, float]:
        """Register with the activation code: (the device row before, its secret, when)."""
        secret = new_secret(32)
        now = self.now()
        metadata = metadata or {}
        async with self.database.write() as conn:
            row = (await conn.execute(sql.DEVICE_BY_ID, {"p_device_id": device_id})).first()
            if row is None:
                raise DeviceNotProvisioned("device not pre-provisioned")
            check_registration(
                row.status, row.activation_expires, same_hash(row.activation_hash, code), now
            )
            result = await conn.execute(
                sql.REGISTER,
                {
                    "p_device_id": device_id,
                    "p_secret_hash": hash_secret(secret),
                    "p_now": now,
                    "p_location": metadata.get("location") or row.location,
                    "p_model": metadata.get("model"),
                },
            )
            if result.rowcount != 1:  # registered by a concurrent request
                raise DeviceAlreadyRegistered("device already registered")
        return row, secret, now

    async def authenticate(self, device_id: str, secret: str) -> tuple[str, int]:
        """A new session token for the device's secret, and its lifetime."""
        now = self.now()
        token = new_secret(32)
        ttl = self.settings.device_token_ttl
        async with self.database.write() as conn:
            row = (await conn.execute(sql.DEVICE_BY_ID, {"p_device_id": device_id})).first()
            if row is None or not same_hash(row.secret_hash, secret):
                raise InvalidDeviceCredentials("invalid device credentials")
            if row.status != DeviceState.ACTIVE:
                raise DeviceInactive(f"device is {row.status}")
            await conn.execute(sql.DROP_EXPIRED_TOKENS, {"p_now": now})
            await conn.execute(
                sql.NEW_TOKEN,
                {
                    "p_token_hash": hash_secret(token),
                    "p_device_id": device_id,
                    "p_expires_at": now + ttl,
                },
            )
        return token, ttl

    async def check_device_secret(self, device_id: str, secret: str) -> bool:
        async with self.database.read() as conn:
            row = (await conn.execute(sql.DEVICE_BY_ID, {"p_device_id": device_id})).first()
        return (
            row is not None
            and row.status == DeviceState.ACTIVE
            and same_hash(row.secret_hash, secret)
        )

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
        """End every session of a device at once, in every process."""
        async with self.database.write() as conn:
            await conn.execute(sql.REVOKE_TOKENS, {"p_device_id": device_id})
        await self._revoked.publish(device_id)

    async def _read_token(self, key: str) -> tuple[str, str, float] | None:
        async with self.database.read() as conn:
            row = (await conn.execute(sql.TOKEN, {"p_token_hash": key})).first()
        if row is None or row.status != DeviceState.ACTIVE:
            return None
        return str(row.device_id), str(row.customer_id), float(row.expires_at)
