"""The device gateway's tables, and its steps in the server's migration history
(``gateway_server._schema`` lists every step of every API, in order)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["commands", "create_tables", "device_tokens", "devices", "index_claim_order", "sessions"]

metadata = sa.MetaData()

devices = sa.Table(
    "devices",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("customer_id", sa.String(256), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("location", sa.String(200)),
    sa.Column("model", sa.String(200)),
    sa.Column("status", sa.String(20), nullable=False),  # DeviceState
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
    sa.Column("state", sa.String(20), nullable=False),  # CommandState (_rules.py)
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
    # The once-a-second run-out scan asks for the claims that ran out in the last second.
    sa.Index("ix_commands_visible_until", "visible_until"),
)


async def create_tables(conn: AsyncConnection) -> None:
    """Version 1: the gateway's tables."""
    await conn.run_sync(metadata.create_all)


async def index_claim_order(conn: AsyncConnection) -> None:
    """Version 2: claims sorted every pending command of a device
    (ix_commands_queue had priority ascending); index the claim order instead."""
    await conn.execute(sa.text("DROP INDEX IF EXISTS ix_commands_queue"))
    await conn.execute(
        sa.text(
            "CREATE INDEX IF NOT EXISTS ix_commands_claim_order "
            "ON commands (device_id, state, priority DESC, seq)"
        )
    )


async def index_run_outs(conn: AsyncConnection) -> None:
    """Version 5: the run-out scan asked about every device with a socket open
    (``device_id IN`` thousands of ids, once a second); with claims indexed by
    ``visible_until`` it reads the last second's run-outs alone."""
    await conn.execute(
        sa.text("CREATE INDEX IF NOT EXISTS ix_commands_visible_until ON commands (visible_until)")
    )
