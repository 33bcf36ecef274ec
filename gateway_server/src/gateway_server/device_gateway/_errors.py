"""The device gateway's domain errors. Each names its code; its kind (from
``gateway_server._errors``) decides the HTTP status, at the edge."""

from __future__ import annotations

from .._errors import Conflict, Forbidden, NotFound, RateLimited, Unauthenticated

__all__ = [
    "ActivationCodeExpired",
    "AlreadyCompleted",
    "AlreadyProcessed",
    "ClaimExpired",
    "DeviceAlreadyRegistered",
    "DeviceExists",
    "DeviceInactive",
    "DeviceNotActive",
    "DeviceNotProvisioned",
    "InvalidActivationCode",
    "InvalidClaimToken",
    "InvalidDeviceCredentials",
    "InvalidDeviceToken",
    "NotOwned",
    "SessionExists",
    "SessionExpired",
    "TooManySockets",
    "Unknown",
]


class Unknown(NotFound):
    """No such device, session or command: ``Unknown("session")``."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")


class NotOwned(Forbidden):
    """It exists, and it is another customer's: ``NotOwned("device")``."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not owned by customer")


class DeviceExists(Conflict):
    code = "DEVICE_EXISTS"


class DeviceNotProvisioned(NotFound):
    code = "DEVICE_NOT_PROVISIONED"


class DeviceAlreadyRegistered(Conflict):
    code = "DEVICE_ALREADY_REGISTERED"


class ActivationCodeExpired(Unauthenticated):
    code = "ACTIVATION_CODE_EXPIRED"


class InvalidActivationCode(Unauthenticated):
    code = "INVALID_ACTIVATION_CODE"


class InvalidDeviceCredentials(Unauthenticated):
    code = "INVALID_DEVICE_CREDENTIALS"


class InvalidDeviceToken(Unauthenticated):
    code = "INVALID_DEVICE_TOKEN"


class DeviceInactive(Forbidden):
    """A device that is not active may not authenticate."""

    code = "DEVICE_INACTIVE"


class DeviceNotActive(Conflict):
    """A session needs an active device."""

    code = "DEVICE_NOT_ACTIVE"


class InvalidClaimToken(Forbidden):
    code = "INVALID_CLAIM_TOKEN"


class ClaimExpired(Forbidden):
    code = "CLAIM_EXPIRED"


class AlreadyCompleted(Conflict):
    code = "ALREADY_COMPLETED"


class SessionExists(Conflict):
    code = "SESSION_EXISTS"


class SessionExpired(Conflict):
    code = "SESSION_EXPIRED"


class AlreadyProcessed(Conflict):
    code = "ALREADY_PROCESSED"


class TooManySockets(RateLimited):
    """A device or customer holds as many WebSockets as it may."""

    code = "TOO_MANY_SOCKETS"
