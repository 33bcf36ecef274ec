"""The compliance platform's tables, and its step in the server's migration
history (``gateway_server._schema`` lists every step of every API, in order).

Every table is prefixed ``cp_`` (the device gateway has its own ``sessions``).
Each record under a site carries the site's ``partner_id`` as well: a site
never changes partner, and every query a user makes is scoped with
``partner_id = <theirs>`` on the table itself, without a join.
Timestamps are epoch seconds (floats); lists and maps are JSON text.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "agent_checks",
    "agent_events",
    "agents",
    "candidates",
    "connectors",
    "create_channel_tables",
    "create_tables",
    "enrollment_tokens",
    "escalations",
    "executions",
    "incidents",
    "oauth_states",
    "partners",
    "runbooks",
    "sessions",
    "sites",
    "users",
]

metadata = sa.MetaData()
_ID = 36  # a UUID's text

partners = sa.Table(
    "cp_partners",
    metadata,
    sa.Column("id", sa.String(_ID), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

users = sa.Table(
    "cp_users",
    metadata,
    sa.Column("id", sa.String(_ID), primary_key=True),
    sa.Column("partner_id", sa.String(_ID), nullable=False, index=True),
    sa.Column("username", sa.String(255), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

sessions = sa.Table(
    "cp_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.String(_ID), nullable=False, index=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("revoked_at", sa.Float),
)

sites = sa.Table(
    "cp_sites",
    metadata,
    sa.Column("id", sa.String(_ID), primary_key=True),
    sa.Column("partner_id", sa.String(_ID), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("name_key", sa.String(255), nullable=False),  # casefolded, unique per partner
    sa.Column("capability_tier", sa.String(32), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.UniqueConstraint("partner_id", "name_key", name="uq_cp_sites_name"),
)

enrollment_tokens = sa.Table(
    "cp_enrollment_tokens",
    metadata,
    sa.Column("id", sa.String(_ID), primary_key=True),
    sa.Column("site_id", sa.String(_ID), nullable=False, index=True),
    sa.Column("partner_id", sa.String(_ID), nullable=False),
    sa.Column("description", sa.String(255)),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("token_prefix", sa.String(8), nullable=False),
    sa.Column("max_uses", sa.Integer),
    sa.Column("uses", sa.Integer, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("created_by", sa.String(_ID)),
    sa.Column("last_used_at", sa.Float),
    sa.Column("revoked_at", sa.Float),
)

agents = sa.Table(
    "cp_agents",
    metadata,
    sa.Column("id", sa.String(_ID), primary_key=True),
    sa.Column("site_id", sa.String(_ID), nullable=False, index=True),
    sa.Column("partner_id", sa.String(_ID), nullable=False),
    sa.Column("hostname", sa.String(255), nullable=False),
    sa.Column("os_version", sa.String(255), nullable=False),
    sa.Column("agent_version", sa.String(64), nullable=False),
    sa.Column("mac_address", sa.String(64)),
    sa.Column("enrolled_at", sa.Float, nullable=False),
    sa.Column("last_checkin", sa.Float),
    sa.Column("certificate_expires_at", sa.Float),
    sa.Column("revoked_at", sa.Float),
    sa.Column("drift_count", sa.Integer, nullable=False),
    sa.Column("healing_count", sa.Integer, nullable=False),
    sa.Column("rmm", sa.Text),  # the last RMM report's agents (JSON), null before one
    sa.Column("rmm_reported_at", sa.Float),
)

agent_checks = sa.Table(
    "cp_agent_checks",
    metadata,
    sa.Column("agent_id", sa.String(_ID), primary_key=True),
    sa.Column("check_type", sa.String(32), primary_key=True),
    sa.Column("site_id", sa.String(_ID), nullable=False, index=True),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("observed_at", sa.Float, nullable=False),
)

incidents = sa.Table(
    "cp_incidents",
    metadata,
    sa.Column("id", sa.String(_ID), primary_key=True),
    sa.Column("site_id", sa.String(_ID), nullable=False),
    sa.Column("partner_id", sa.String(_ID), nullable=False),
    sa.Column("agent_id", sa.String(_ID)),
    sa.Column("hostname", sa.String(255), nullable=False),
    sa.Column("check_type", sa.String(32), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("resolved", sa.Boolean, nullable=False),
    sa.Column("resolved_at", sa.Float),
    sa.Column("resolved_by", sa.String(16)),
    sa.Column("resolved_by_user_id", sa.String(_ID)),
    sa.Column("resolution_note", sa.Text),
    sa.Column("hipaa_controls", sa.Text, nullable=False),
    sa.Column("expected", sa.Text, nullable=False),
    sa.Column("actual", sa.Text, nullable=False),
    sa.Column("hipaa_control", sa.String(64), nullable=False),
    sa.Column("metadata", sa.Text, nullable=False),
    sa.Column("observed_at", sa.Float, nullable=False),
    sa.Column("occurrences", sa.Integer, nullable=False),
    sa.Column("last_seen_at", sa.Float, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    # A page of a partner's incidents, newest first, filtered by site or not
    # (the walk stops after the page), and the count of every filter (index only).
    sa.Index("ix_cp_incidents_partner", "partner_id", sa.desc("created_at"), sa.desc("id")),
    sa.Index("ix_cp_incidents_site", "site_id", "resolved", sa.desc("created_at"), sa.desc("id")),
    sa.Index(
        "ix_cp_incidents_filters", "partner_id", "site_id", "severity", "resolved", "check_type"
    ),
    # The open incident of a host and check (drift updates it instead of opening another).
    sa.Index("ix_cp_incidents_open", "site_id", "hostname", "check_type", "resolved"),
)

runbooks = sa.Table(
    "cp_runbooks",
    metadata,
    sa.Column("id", sa.String(_ID), primary_key=True),
    sa.Column("partner_id", sa.String(_ID)),  # null: the built-in library
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("level", sa.String(4), nullable=False),
    sa.Column("check_type", sa.String(32), nullable=False),
    sa.Column("hipaa_controls", sa.Text, nullable=False),
    sa.Column("is_disruptive", sa.Boolean, nullable=False),
    sa.Column("steps", sa.Text, nullable=False),
    sa.Column("source_candidate_id", sa.String(_ID)),
    sa.Column("created_at", sa.Float, nullable=False),
)

executions = sa.Table(
    "cp_executions",
    metadata,
    sa.Column("id", sa.String(_ID), primary_key=True),
    sa.Column("runbook_id", sa.String(_ID), nullable=False, index=True),
    sa.Column("site_id", sa.String(_ID), nullable=False, index=True),
    sa.Column("partner_id", sa.String(_ID), nullable=False),
    sa.Column("agent_id", sa.String(_ID)),
    sa.Column("hostname", sa.String(255), nullable=False),
    sa.Column("incident_id", sa.String(_ID), index=True),
    sa.Column("command_id", sa.String(_ID), nullable=False, unique=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error_message", sa.Text),
    sa.Column("artifacts", sa.Text, nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("finished_at", sa.Float),
)

candidates = sa.Table(
    "cp_candidates",
    metadata,
    sa.Column("id", sa.String(_ID), primary_key=True),
    sa.Column("site_id", sa.String(_ID), nullable=False, index=True),
    sa.Column("partner_id", sa.String(_ID), nullable=False),
    sa.Column("check_type", sa.String(32), nullable=False),
    sa.Column("issue_signature", sa.Text, nullable=False),
    sa.Column("resolution_steps", sa.Text, nullable=False),
    sa.Column("pattern_key", sa.String(64), nullable=False),  # SHA-256 of the pattern
    sa.Column("occurrences", sa.Integer, nullable=False),
    sa.Column("success_count", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("first_seen_at", sa.Float, nullable=False),
    sa.Column("last_seen_at", sa.Float, nullable=False),
    sa.Column("promoted_runbook_id", sa.String(_ID)),
    sa.Column("decided_at", sa.Float),
    sa.Column("decided_by", sa.String(_ID)),
    sa.Column("reject_reason", sa.Text),
    sa.UniqueConstraint("site_id", "pattern_key", name="uq_cp_candidates_pattern"),
)

connectors = sa.Table(
    "cp_connectors",
    metadata,
    sa.Column("id", sa.String(_ID), primary_key=True),
    sa.Column("site_id", sa.String(_ID), nullable=False, index=True),
    sa.Column("partner_id", sa.String(_ID), nullable=False),
    sa.Column("provider", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("account", sa.String(255)),
    sa.Column("scopes", sa.Text, nullable=False),
    sa.Column("tokens", sa.LargeBinary),  # AES-GCM ciphertext; the key is never in the database
    sa.Column("aws_role_arn", sa.String(1024)),
    sa.Column("aws_external_id", sa.String(128)),
    sa.Column("last_error", sa.Text),
    sa.Column("connected_at", sa.Float),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.UniqueConstraint("site_id", "provider", name="uq_cp_connectors_provider"),
)

oauth_states = sa.Table(
    "cp_oauth_states",
    metadata,
    sa.Column("state_hash", sa.String(64), primary_key=True),
    sa.Column("site_id", sa.String(_ID), nullable=False, index=True),
    sa.Column("user_id", sa.String(_ID), nullable=False),
    sa.Column("provider", sa.String(32), nullable=False),
    sa.Column("account", sa.String(255)),  # the tenant or the Okta domain asked for
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("used_at", sa.Float),
)

escalations = sa.Table(
    "cp_escalations",
    metadata,
    sa.Column("id", sa.String(_ID), primary_key=True),
    sa.Column("site_id", sa.String(_ID), nullable=False, index=True),
    sa.Column("partner_id", sa.String(_ID), nullable=False),
    sa.Column("incident_id", sa.String(_ID)),
    sa.Column("priority", sa.String(16), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("created_by", sa.String(_ID)),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("delivery_status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("delivered_at", sa.Float),
    sa.Column("next_attempt_at", sa.Float, index=True),
    sa.Column("log", sa.Text, nullable=False),
)

agent_events = sa.Table(
    # What the agent channel answered each event id an agent chose (drift events,
    # healing results): a re-sent event gets the same answer and is not applied again.
    "cp_agent_events",
    metadata,
    sa.Column("agent_id", sa.String(_ID), primary_key=True),
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),  # drift, healing
    sa.Column("reply", sa.Text, nullable=False),  # JSON: the heal command sent, if any
    sa.Column("created_at", sa.Float, nullable=False),
)


async def create_tables(conn: AsyncConnection) -> None:
    """Version 3: the compliance platform's tables."""
    await conn.run_sync(metadata.create_all)


async def create_channel_tables(conn: AsyncConnection) -> None:
    """Version 6: the agent channel's table of answered events (on a database
    made at version 3 from these definitions, already there)."""
    await conn.run_sync(lambda sync: agent_events.create(sync, checkfirst=True))
