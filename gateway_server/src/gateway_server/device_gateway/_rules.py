"""The queue's rules, as I/O-free decisions (the device gateway addendum, exactly).

Each rule, then the function here that decides it and the named statement of
``_sql.py`` that enforces it in the database (the stores in ``_queue.py`` and
``_sessions.py`` only run the transactions):

1. Commands are claimed by priority (higher first), then first in, first out.
   Enforced by ``claim_order`` in HEAD, TAKE_NEXT, CLAIMABLE and RUN_OUT.
2. Claimable means: the device's, pending, and not under a live claim
   (``visible_until`` unset or passed). Seen by customers through
   :func:`customer_status` (``claimed`` while a claim lives); enforced by
   ``_visible`` in TAKE_NEXT, HEAD and COUNT_CLAIMABLE.
3. A claim takes the head with a fresh random token (stored hashed) until
   :func:`claim_deadline`; an expired claim makes the command claimable again
   and its old token dead. Enforced by TAKE_NEXT (one statement, SKIP LOCKED
   on PostgreSQL).
4. A command claimed ``max_claims`` times without a result goes to the
   dead-letter state on its next claim attempt, visible to its customer.
   Decided by :func:`exhausted`; enforced by BURY (after HEAD).
5. Extend needs the current token and an unexpired claim, and sets
   :func:`claim_deadline` from now. Decided by :func:`check_extend`; EXTEND
   re-checks both.
6. A result needs the current token and an unexpired claim; the same token
   again after success gets the same success answer; another token on a
   completed command gets 409. Enforced by FINISH (all checks in one
   statement); when it takes nothing, :func:`refused_result` says why.
7. A claim that ran out is announced again, to the device's sockets and its
   watchers. RUN_OUT finds them.
8. Commands of a remediation session wait for approval; a rejected one is
   never claimable. Decided by :func:`initial_state` and :func:`decide`;
   enforced by NEW_COMMAND and DECIDE (only from ``awaiting_approval``).
9. Commands are enqueued only in a live session (:func:`check_session_open`);
   a device has one live session at a time, and only an active device has
   one (:func:`check_new_session`, ACTIVE_SESSION_OF_DEVICE).
10. A device registers once, with its unexpired activation code
    (:func:`check_registration`); REGISTER burns the code in the same
    statement.
11. A customer reaches only its own devices and sessions: an unknown one is
    404, another customer's 403 (:func:`check_owner`; every store's owned
    read goes through it).
12. A device is online when seen within 3 heartbeat intervals
    (:func:`online_since`, :func:`device_status`; DEVICES_PAGE filters by it).
12. A session's commands are read a page at a time (oldest first), and a
    page ends before its results pass ``PAGE_RESULT_CHARS`` characters
    (:func:`page_length`, over RESULT_SIZES; COMMANDS_OF_SESSION reads them).
"""

from __future__ import annotations

from enum import StrEnum

from ._errors import (
    ActivationCodeExpired,
    AlreadyCompleted,
    AlreadyProcessed,
    ClaimExpired,
    DeviceAlreadyRegistered,
    DeviceNotActive,
    InvalidActivationCode,
    InvalidClaimToken,
    NotOwned,
    SessionExists,
    SessionExpired,
    Unknown,
)

__all__ = [
    "CommandState",
    "DeviceState",
    "check_extend",
    "check_owner",
    "check_new_session",
    "check_registration",
    "check_session_open",
    "claim_deadline",
    "customer_status",
    "decide",
    "device_status",
    "exhausted",
    "initial_state",
    "online_since",
    "refused_result",
]

OFFLINE_AFTER_BEATS = 3


class CommandState(StrEnum):
    """A command's stored state (the ``commands.state`` column)."""

    PENDING = "pending"
    """Claimable, or claimed while ``visible_until`` is in the future."""
    AWAITING_APPROVAL = "awaiting_approval"
    REJECTED = "rejected"
    COMPLETED = "completed"
    DEAD_LETTER = "dead_letter"


class DeviceState(StrEnum):
    """A device's stored state (the ``devices.status`` column)."""

    PROVISIONED = "provisioned"
    ACTIVE = "active"
    SUSPENDED = "suspended"


CLAIMED = "claimed"
"""The status a customer sees for a pending command under a live claim (not stored)."""


def customer_status(state: str, visible_until: float | None, now: float) -> str:
    """The status a customer sees: the stored state, or ``claimed``."""
    if state == CommandState.PENDING and visible_until is not None and visible_until > now:
        return CLAIMED
    return state


def claim_deadline(now: float, duration_ms: int) -> float:
    """When a claim made (or extended) now for ``duration_ms`` runs out."""
    return now + duration_ms / 1000


def exhausted(claim_count: int, max_claims: int) -> bool:
    """The head was claimed ``max_claims`` times without a result: dead-letter it."""
    return claim_count >= max_claims


def check_extend(state: str, same_token: bool, visible_until: float | None, now: float) -> None:
    """An extension needs the current token of a pending command, and a live claim."""
    if state != CommandState.PENDING or not same_token:
        raise InvalidClaimToken("invalid claim token or command no longer claimed")
    if visible_until is None or visible_until <= now:
        raise ClaimExpired("the claim has expired")


def refused_result(state: str, same_token: bool) -> None:
    """Why a result that FINISH did not take is refused; returns only for a
    replay (the same token on the command it completed: answer success again)."""
    if state == CommandState.COMPLETED:
        if same_token:
            return
        raise AlreadyCompleted("command already completed by another claim")
    if state != CommandState.PENDING or not same_token:
        raise InvalidClaimToken("invalid claim token")
    raise ClaimExpired("the claim has expired; the command is claimable again")


def initial_state(session_type: str) -> CommandState:
    """Commands of a remediation session wait for approval."""
    if session_type == "remediation":
        return CommandState.AWAITING_APPROVAL
    return CommandState.PENDING


def decide(state: str, approved: bool, current_status: str) -> CommandState:
    """The state an approval moves a command to; only a waiting command moves."""
    if state != CommandState.AWAITING_APPROVAL:
        raise AlreadyProcessed(f"command already processed ({current_status})")
    return CommandState.PENDING if approved else CommandState.REJECTED


def check_session_open(expires_at: float, now: float) -> None:
    if expires_at <= now:
        raise SessionExpired("the session has expired")


def check_new_session(device_state: str, active_session: str | None) -> None:
    """A session needs an active device with no live session."""
    if device_state != DeviceState.ACTIVE:
        raise DeviceNotActive(f"device is {device_state}")
    if active_session is not None:
        raise SessionExists(
            "an active session already exists for this device", {"sessionId": active_session}
        )


def check_registration(
    device_state: str, code_expires: float | None, same_code: bool, now: float
) -> None:
    """A provisioned device registers once, with its unexpired activation code."""
    if device_state != DeviceState.PROVISIONED:
        raise DeviceAlreadyRegistered("device already registered")
    if code_expires is None or code_expires <= now:
        raise ActivationCodeExpired("activation code expired")
    if not same_code:
        raise InvalidActivationCode("invalid activation code")


def check_owner(owner: str | None, customer_id: str, what: str) -> None:
    """``owner`` is the customer of the row read (``None``: no such row)."""
    if owner is None:
        raise Unknown(what)
    if owner != customer_id:
        raise NotOwned(what)


def online_since(now: float, heartbeat_interval_ms: int) -> float:
    """A device seen at or after this moment is online."""
    return now - OFFLINE_AFTER_BEATS * heartbeat_interval_ms / 1000


def device_status(
    state: str,
    last_seen: float | None,
    reported: str | None,
    now: float,
    heartbeat_interval_ms: int,
) -> str:
    """What a customer sees: the stored state unless active; then offline, or
    what the device last reported."""
    if state != DeviceState.ACTIVE:
        return state
    if last_seen is None or last_seen < online_since(now, heartbeat_interval_ms):
        return "offline"
    return reported or "online"


PAGE_RESULT_CHARS = 2_000_000
"""The most result text (output and error, in characters) a page of a
session's commands holds, unless its first command alone holds more."""


def page_length(result_sizes: list[int], budget: int = PAGE_RESULT_CHARS) -> int:
    """How many of a page's commands to answer with, given their result
    sizes in order: all, or those before the one that would pass ``budget``
    (one at least, so that paging always moves on)."""
    held = 0
    for i, size in enumerate(result_sizes):
        held += size
        if held > budget and i > 0:
            return i
    return len(result_sizes)
