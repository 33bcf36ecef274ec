"""The agent's errors, under sdk_core's ``SDKError`` like every error of the suite."""

from __future__ import annotations

import grpc

from sdk_core import SDKError

__all__ = ["AgentError", "AgentRefusedError", "EnrollmentError", "NotEnrolledError", "PinError"]


class AgentError(SDKError):
    """Base of the agent's errors."""


class EnrollmentError(AgentError):
    """Enrollment failed: the token was refused, or the answer did not check out.
    ``retry_after``: the seconds the server asks to wait first (after too many
    refused tokens from this address: RESOURCE_EXHAUSTED), else None."""

    def __init__(
        self,
        message: str,
        code: grpc.StatusCode | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.retry_after = retry_after


class PinError(EnrollmentError):
    """The server's CA is not the one whose fingerprint the agent was given."""


class NotEnrolledError(AgentError):
    """The state directory holds no enrolled identity: run ``enroll`` first."""


class AgentRefusedError(AgentError):
    """The server refuses this agent (revoked: UNAUTHENTICATED; another agent's id:
    PERMISSION_DENIED). Reconnecting cannot help, so the agent stops."""

    def __init__(self, message: str, code: grpc.StatusCode | None) -> None:
        super().__init__(message)
        self.code = code
