"""The agent's decisions, I/O-free: both twins (and the CLI) drive these.

- :class:`Outbox`: the drift events not yet acknowledged, in order. Each
  connection keeps a cursor; a new connection starts at 0, so it re-sends
  exactly the unacknowledged events, with their own event ids (the server
  applies an event id once however often it arrives).
- :class:`CommandLedger`: heal commands already taken, by command id, so a
  command that arrives both on a drift ack and a heartbeat runs once.
- :func:`renewal_at`: when to renew the agent certificate (two thirds into
  its validity, as cert-manager does; at once when already past).
- :func:`choose_endpoints`: the discovery order (an explicit address, DNS SRV,
  ``OSIRIS_APPLIANCE_ADDR``, the config file, the address enrollment gave).
- :func:`reconnect_delay`: exponential backoff with full jitter, sdk_core's
  :class:`~sdk_core.RetryPolicy` arithmetic with the agent's own bounds.
- :func:`stream_failure`: what a failed RPC means (retry, drop the event in
  flight, or stop: the server refuses this agent).
"""

from __future__ import annotations

import enum
import math
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence

import attrs
import grpc

from sdk_core import InputValidationError, RetryPolicy

from .._proto import compliance_pb2 as pb

__all__ = [
    "CHECK_TYPES",
    "DEFAULT_AGENT_PORT",
    "CommandLedger",
    "Endpoint",
    "Failure",
    "Outbox",
    "SrvTarget",
    "choose_endpoints",
    "parse_address",
    "reconnect_delay",
    "renewal_at",
    "renewal_retry_delay",
    "retry_after",
    "stream_failure",
]

CHECK_TYPES = ("bitlocker", "defender", "firewall", "patches", "screenlock", "rmm")
DEFAULT_AGENT_PORT = 50051


# --- drift events ---------------------------------------------------------


class Outbox:
    """Drift events waiting for their ack, in the order they were reported.

    ``max_pending`` bounds memory: :meth:`full` tells the twins to wait (the
    agent never drops an event to make room)."""

    def __init__(self, max_pending: int = 10_000) -> None:
        if max_pending < 1:
            raise InputValidationError("max_pending", "must be at least 1")
        self.max_pending = max_pending
        self._events: OrderedDict[str, tuple[int, pb.DriftEvent]] = OrderedDict()
        self._next_seq = 0

    def __len__(self) -> int:
        return len(self._events)

    def full(self) -> bool:
        return len(self._events) >= self.max_pending

    def add(self, event: pb.DriftEvent) -> str:
        """Queue ``event`` (its event_id set here when empty); its event id."""
        if not event.event_id:
            event.event_id = str(uuid.uuid4())
        if event.event_id in self._events:
            raise InputValidationError("event_id", f"{event.event_id!r} is already waiting")
        self._events[event.event_id] = (self._next_seq, event)
        self._next_seq += 1
        return event.event_id

    def after(self, cursor: int) -> list[tuple[int, pb.DriftEvent]]:
        """The waiting events a connection whose cursor is ``cursor`` has not sent.

        Sequence numbers grow in insertion order and acks only remove, so the
        walk goes back from the newest and stops at the first one sent: the
        writer's cost is the new events, not everything still waiting."""
        out = []
        for seq, event in reversed(self._events.values()):
            if seq < cursor:
                break
            out.append((seq, event))
        out.reverse()
        return out

    def ack(self, event_id: str) -> pb.DriftEvent | None:
        """Forget the acknowledged event; None when it was not waiting (a second ack)."""
        entry = self._events.pop(event_id, None)
        return entry[1] if entry else None

    def oldest(self) -> pb.DriftEvent | None:
        return next(iter(self._events.values()))[1] if self._events else None

    def pending_ids(self) -> list[str]:
        return list(self._events)

    def events(self) -> list[pb.DriftEvent]:
        """The waiting events, oldest first."""
        return [event for _, event in self._events.values()]


class CommandLedger:
    """Heal command ids already taken (the newest ``capacity``)."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[str, None] = OrderedDict()

    def take(self, command_id: str) -> bool:
        """True the first time a command id is seen: run it then, never again."""
        if command_id in self._seen:
            return False
        self._seen[command_id] = None
        while len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return True


def validate_drift(check_type: str, metadata: dict[str, str] | None) -> None:
    """Refuse, before queueing, what no server could take: a check type outside the
    contract's list, metadata that is not strings. Sizes are the server's to judge:
    an event it refuses is acknowledged with an error and lands in ``rejected``."""
    if check_type not in CHECK_TYPES:
        raise InputValidationError("check_type", f"must be one of {', '.join(CHECK_TYPES)}")
    for key, value in (metadata or {}).items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InputValidationError(f"metadata[{key!r}]", "keys and values must be strings")


# --- certificates ---------------------------------------------------------


def renewal_at(not_before: float, not_after: float, fraction: float = 2 / 3) -> float:
    """Unix time at which to renew a certificate valid from ``not_before`` to
    ``not_after``: ``fraction`` of the way in (365 days: renewed after about
    243, with 122 left for retries)."""
    if not_after <= not_before:
        return not_before
    return not_before + (not_after - not_before) * fraction


# --- discovery ------------------------------------------------------------


@attrs.frozen
class Endpoint:
    host: str
    port: int
    source: str  # "explicit", "srv", "env", "config", "enrollment"

    @property
    def target(self) -> str:
        """The grpc target: ``host:port``, an IPv6 host in brackets."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@attrs.frozen
class SrvTarget:
    priority: int
    weight: int
    port: int
    host: str


def parse_address(
    value: str, *, field: str, default_port: int = DEFAULT_AGENT_PORT
) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]:port`` or ``[v6]``: (host, port)."""
    text = value.strip()
    if not text:
        raise InputValidationError(field, "is empty")
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
        if rest and not rest.startswith(":"):
            raise InputValidationError(field, f"{value!r} is not host:port")
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:  # a bare host, or a bare IPv6 address
        host, port_text = text, ""
    if not host:
        raise InputValidationError(field, f"{value!r} has no host")
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise InputValidationError(field, f"port {port_text!r} is not 1..65535")
    return host, int(port_text)


def order_srv(records: Iterable[SrvTarget], rand: Callable[[], float]) -> list[SrvTarget]:
    """RFC 2782: lowest priority first; within a priority, a weighted random order."""
    out: list[SrvTarget] = []
    by_priority: dict[int, list[SrvTarget]] = {}
    for record in records:
        if record.host in ("", "."):  # "service not available here"
            continue
        by_priority.setdefault(record.priority, []).append(record)
    for priority in sorted(by_priority):
        group = sorted(by_priority[priority], key=lambda r: r.weight)  # zero weights first
        while group:
            total = sum(r.weight for r in group)
            pick = rand() * total
            running = 0
            chosen = group[0]
            for record in group:
                running += record.weight
                if running >= pick and (record.weight or total == 0):
                    chosen = record
                    break
            group.remove(chosen)
            out.append(chosen)
    return out


def choose_endpoints(
    *,
    explicit: str | None = None,
    srv: Sequence[SrvTarget] = (),
    env: str | None = None,
    config: str | None = None,
    enrolled: str | None = None,
    rand: Callable[[], float],
) -> list[Endpoint]:
    """Every candidate address, best first, duplicates dropped.

    An explicit address (a flag, the constructor) is the only one. Otherwise
    the spec's order: DNS SRV ``_osiris-grpc._tcp.<domain>``, then
    ``OSIRIS_APPLIANCE_ADDR``, then the config file; last, the agent address
    enrollment answered with. The agent tries them in turn when one fails."""
    if explicit:
        return [Endpoint(*parse_address(explicit, field="address"), source="explicit")]
    out: list[Endpoint] = []
    for record in order_srv(srv, rand):
        out.append(Endpoint(record.host.rstrip("."), record.port, "srv"))
    for value, source, field in (
        (env, "env", "OSIRIS_APPLIANCE_ADDR"),
        (config, "config", "appliance_addr"),
        (enrolled, "enrollment", "agent_address"),
    ):
        if value:
            out.append(Endpoint(*parse_address(value, field=field), source=source))
    seen: set[tuple[str, int]] = set()
    unique = []
    for endpoint in out:
        if (endpoint.host, endpoint.port) not in seen:
            seen.add((endpoint.host, endpoint.port))
            unique.append(endpoint)
    return unique


# --- failures and backoff -------------------------------------------------

_RECONNECT = RetryPolicy(initial_backoff=0.5, max_backoff=30.0)
# A failed renewal leaves a working certificate: no hurry, and no hammering.
_RENEWAL_RETRY = RetryPolicy(initial_backoff=60.0, max_backoff=3600.0)


def reconnect_delay(
    attempt: int, rand: Callable[[], float], policy: RetryPolicy = _RECONNECT
) -> float:
    """Seconds to wait before reconnect attempt ``attempt`` (0-based): full jitter,
    ``uniform(0, min(max_backoff, initial_backoff * 2**attempt))``."""
    return policy.backoff(attempt, rand)


def renewal_retry_delay(failures: int, rand: Callable[[], float]) -> float:
    """Seconds before renewal attempt ``failures + 1``: at least a minute, jittered up
    to twice that, doubling to an hour (months of validity are left by then)."""
    return 60.0 + _RENEWAL_RETRY.backoff(failures, rand)


class Failure(enum.Enum):
    RETRY = "retry"  # the server or the network: reconnect after a backoff
    DROP_IN_FLIGHT = "drop"  # the server refused the event it was reading: drop it
    STOP = "stop"  # the server refuses this agent (revoked, another agent id)


_STOP = frozenset({grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED})
_DROP = frozenset({grpc.StatusCode.INVALID_ARGUMENT})


def stream_failure(code: grpc.StatusCode | None) -> Failure:
    if code in _STOP:
        return Failure.STOP
    if code in _DROP:
        return Failure.DROP_IN_FLIGHT
    return Failure.RETRY


def retry_after(metadata: Iterable[tuple[str, str | bytes]] | None) -> float | None:
    """The seconds a refusal asks to wait (its ``retry-after`` trailing
    metadata, as the enrollment listener sends with RESOURCE_EXHAUSTED);
    None if it sets none or nothing sensible."""
    for key, value in metadata or ():
        if key == "retry-after":
            try:
                seconds = float(value)
            except ValueError:
                return None
            return seconds if math.isfinite(seconds) and seconds >= 0 else None
    return None
