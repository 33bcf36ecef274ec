"""Every SQL statement of the device gateway, by name, built once at import.

The stores run these and nothing else; ``_rules.py`` says which rule each one
enforces. Parameters are ``p_``-named bind parameters. Statements marked
``hot`` run on the SQLite fast path's cursor directly (``storage/_sqlite.py``).

Claims and results are conditional UPDATEs (``WHERE state = 'pending' AND
visible_until <= now`` / ``AND claim_token_hash = ?``), so two claimers can
never both win, on SQLite or PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..storage import hot
from ._rules import CommandState, DeviceState
from ._tables import commands, device_tokens, devices, sessions

_c = commands.c
_d = devices.c
_s = sessions.c
_t = device_tokens.c
PENDING = CommandState.PENDING.value


def p(name: str) -> sa.BindParameter[Any]:
    """The bind parameter ``p_<name>``."""
    return sa.bindparam(f"p_{name}")


# -- the queue: which commands are claimable, and in which order ------------------------
def _visible(c: Any) -> sa.ColumnElement[bool]:
    """Claimable now: this device's, pending, and not under a live claim."""
    return sa.and_(
        c.device_id == p("device_id"),
        c.state == PENDING,
        sa.or_(c.visible_until.is_(None), c.visible_until <= p("now")),
    )


def claim_order(c: Any) -> tuple[sa.UnaryExpression[Any], ...]:
    """The order commands are claimed in: by priority (higher first), then
    first in, first out; on ``c``, the table's or an alias's columns."""
    return (c.priority.desc(), c.seq.asc())


def _queue(c: Any, *columns: Any) -> sa.Select[Any]:
    """A device's commands claimable now, in claim order."""
    return sa.select(*columns).where(_visible(c)).order_by(*claim_order(c))


def _head(c: Any, *columns: Any) -> sa.Select[Any]:
    """The head of a device's queue: the command the next claim takes."""
    return _queue(c, *columns).limit(1)


_VISIBLE = _visible(_c)
_H = commands.alias("head")
# Built once: building a statement costs more than running it on SQLite.
HEAD = hot(_head(_c, _c.seq, _c.id, _c.claim_count))
# The head taken in one statement, unless it has been claimed too often. On
# PostgreSQL the head is read with SKIP LOCKED, so concurrent claimers take
# different commands, and the outer WHERE re-checks visibility, so a command
# claimed in between is never taken twice. The claim columns are not indexed:
# a claim rewrites the row alone, no index entry.
TAKE_NEXT = hot(
    sa.update(commands)
    .where(
        _c.seq == _head(_H.c, _H.c.seq).with_for_update(skip_locked=True).scalar_subquery(),
        _VISIBLE,
        _c.claim_count < p("max_claims"),
    )
    .values(
        claim_token_hash=p("token_hash"),
        visible_until=p("until"),
        claim_count=_c.claim_count + 1,
        updated_at=p("now"),
    )
    .returning(_c.id, _c.type, _c.parameters, _c.priority)
)
BURY = hot(
    sa.update(commands)
    .where(_c.seq == p("seq"), _VISIBLE)
    .values(
        state=CommandState.DEAD_LETTER.value,
        claim_token_hash=None,
        visible_until=None,
        updated_at=p("now"),
    )
)
COUNT_CLAIMABLE = hot(sa.select(sa.func.count()).select_from(commands).where(_VISIBLE))
CLAIMABLE = hot(
    _queue(_c, _c.id, _c.type, _c.priority)
    .where(_c.claim_count < p("max_claims"))
    .limit(p("limit"))
)
RUN_OUT = (
    sa.select(_c.device_id, _c.id, _c.type, _c.priority)
    .where(
        _c.state == PENDING,
        _c.visible_until > p("since"),
        _c.visible_until <= p("until"),
        _c.claim_count < p("max_claims"),
    )
    .order_by(*claim_order(_c))
)
BY_ID = hot(sa.select(commands).where(_c.id == p("command_id")))
EXTEND = (
    sa.update(commands)
    .where(_c.seq == p("seq"), _c.claim_token_hash == p("token_hash"), _c.visible_until > p("now"))
    .values(visible_until=p("until"), updated_at=p("now"))
)
# A result in one statement: this device's command, still claimed under this
# token, claim unexpired, completed; answering with the next command's id
# (the head of the queue, this command aside: PostgreSQL's subquery sees the
# row as it was before the update).
_NEXT_ID = _head(_H.c, _H.c.id).where(_H.c.id != p("command_id")).scalar_subquery()
FINISH = hot(
    sa.update(commands)
    .where(
        _c.id == p("command_id"),
        _c.device_id == p("device_id"),
        _c.state == PENDING,
        _c.claim_token_hash == p("token_hash"),
        _c.visible_until > p("now"),
    )
    .values(
        state=CommandState.COMPLETED.value,
        result_status=p("result_status"),
        output=p("output"),
        error=p("error"),
        executed_at=p("executed_at"),
        duration=p("duration"),
        visible_until=None,
        updated_at=p("now"),
    )
    .returning(_NEXT_ID.label("next_id"))
)

# -- sessions and their commands ----------------------------------------------------------
SESSION_BY_ID = hot(sa.select(sessions).where(_s.id == p("session_id")))
ACTIVE_SESSION_OF_DEVICE = (
    sa.select(_s.id)
    .where(_s.device_id == p("device_id"), _s.expires_at > p("now"))
    .order_by(_s.created_at.desc())
    .limit(1)
)
NEW_SESSION = sa.insert(sessions).values(
    {c: p(c) for c in ("id", "customer_id", "device_id", "type", "description")}
    | {"created_at": p("now"), "expires_at": p("expires_at")}
)
_OF_SESSION = _c.session_id == p("session_id")
COMMANDS_OF_SESSION = (
    sa.select(commands).where(_OF_SESSION).order_by(_c.seq).limit(p("limit")).offset(p("offset"))
)
RESULT_SIZES = (
    sa.select(
        sa.func.coalesce(sa.func.length(_c.output), 0)
        + sa.func.coalesce(sa.func.length(_c.error), 0)
    )
    .where(_OF_SESSION)
    .order_by(_c.seq)
    .limit(p("limit"))
    .offset(p("offset"))
)
COMMAND_COUNT = sa.select(sa.func.count()).select_from(commands).where(_OF_SESSION)
COMMAND_IN_SESSION = sa.select(commands).where(
    _c.id == p("command_id"), _c.session_id == p("session_id")
)
_NEW_COMMAND_COLUMNS = (
    "id", "device_id", "session_id", "customer_id", "type", "parameters",
    "priority", "state", "claim_count", "created_at", "updated_at",
)  # fmt: skip
NEW_COMMAND = hot(sa.insert(commands).values({c: p(c) for c in _NEW_COMMAND_COLUMNS}))
DECIDE = (
    sa.update(commands)
    .where(_c.seq == p("seq"), _c.state == CommandState.AWAITING_APPROVAL.value)
    .values(state=p("state"), decision_reason=p("reason"), updated_at=p("now"))
)
DEAD_LETTER_COUNT = (
    sa.select(sa.func.count())
    .select_from(commands)
    .where(_c.device_id == p("device_id"), _c.state == CommandState.DEAD_LETTER.value)
)

# -- devices and their tokens ---------------------------------------------------------------
DEVICE_BY_ID = sa.select(devices).where(_d.id == p("device_id"))
DEVICE_OWNER = sa.select(_d.customer_id).where(_d.id == p("device_id"))
NEW_DEVICE = sa.insert(devices).values(
    {c: p(c) for c in ("id", "customer_id", "name", "location", "activation_hash")}
    | {
        "status": DeviceState.PROVISIONED.value,
        "activation_expires": p("expires_at"),
        "created_at": p("now"),
    }
)
# The activation code is burnt in the statement that registers: it cannot work twice.
REGISTER = (
    sa.update(devices)
    .where(_d.id == p("device_id"), _d.status == DeviceState.PROVISIONED.value)
    .values(
        status=DeviceState.ACTIVE.value,
        activation_hash=None,
        activation_expires=None,
        secret_hash=p("secret_hash"),
        registered_at=p("now"),
        location=p("location"),
        model=p("model"),
    )
)
WRITE_TELEMETRY = sa.update(devices).where(_d.id == p("device_id"))
DROP_EXPIRED_TOKENS = sa.delete(device_tokens).where(_t.expires_at <= p("now"))
NEW_TOKEN = sa.insert(device_tokens).values(
    token_hash=p("token_hash"), device_id=p("device_id"), expires_at=p("expires_at")
)
TOKEN = (
    sa.select(_t.device_id, _t.expires_at, _d.customer_id, _d.status)
    .join(devices, _d.id == _t.device_id)
    .where(_t.token_hash == p("token_hash"))
)
REVOKE_TOKENS = sa.delete(device_tokens).where(_t.device_id == p("device_id"))


def devices_page(online: bool | None) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """(count, page) of a customer's devices; ``online`` None for all of them.
    A device is online when seen at or after ``p_since``."""
    query = sa.select(devices).where(_d.customer_id == p("customer_id"))
    if online is True:
        query = query.where(_d.last_seen >= p("since"))
    elif online is False:
        query = query.where(sa.or_(_d.last_seen.is_(None), _d.last_seen < p("since")))
    count = sa.select(sa.func.count()).select_from(query.subquery())
    return count, query.order_by(_d.id).limit(p("limit")).offset(p("offset"))


DEVICES_PAGE = {
    "all": devices_page(None),
    "online": devices_page(True),
    "offline": devices_page(False),
}
