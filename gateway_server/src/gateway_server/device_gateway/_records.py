"""What the stores hand back besides rows: small immutable records."""

from __future__ import annotations

from typing import Any

import attrs

from ._rules import CommandState

__all__ = ["ClaimedCommand", "Completion", "NewCommand"]


@attrs.frozen
class ClaimedCommand:
    """A command a claim took, with the claim's token (shown to the device once)."""

    id: str
    type: str
    parameters: Any
    priority: int
    claim_token: str
    visible_until: float


@attrs.frozen
class Completion:
    """A result accepted (or accepted again: ``replayed``), and the next command's id."""

    command_id: str
    status: str
    replayed: bool
    next_command: str | None


@attrs.frozen
class NewCommand:
    """A command just enqueued, and where it goes."""

    id: str
    type: str
    priority: int
    state: CommandState
    created_at: float
    device_id: str

    @property
    def claimable(self) -> bool:
        return self.state == CommandState.PENDING
