"""Errors of the Nexthink client beyond sdk_core's hierarchy."""

from __future__ import annotations

from sdk_core import PermissionDeniedError, SDKError

from ._models import ExportStatus

__all__ = ["ExportFailedError", "ExportTimeoutError", "RemoteActionNotEnabledError"]


class ExportFailedError(SDKError):
    """The export ended in status ERROR; ``description`` says why (Nexthink's words)."""

    def __init__(self, export_id: str, status: ExportStatus) -> None:
        self.export_id = export_id
        self.status = status
        self.description = status.error_description
        super().__init__(
            f"export {export_id} failed: {status.error_description or 'no description'}"
        )


class ExportTimeoutError(SDKError, TimeoutError):
    """The export was not done before the wait's timeout; ``status`` is the last one seen."""

    def __init__(self, export_id: str, timeout: float, status: ExportStatus) -> None:
        self.export_id = export_id
        self.timeout = timeout
        self.status = status
        super().__init__(
            f"export {export_id} still {status.status} after {timeout:g}s; "
            "call wait_for_export again to keep waiting"
        )


class RemoteActionNotEnabledError(PermissionDeniedError):
    """403 on a remote action execute: the action is not enabled for the API
    (its ``targeting.apiEnabled`` is false) or the credentials lack the permission."""

    def __str__(self) -> str:
        return (
            f"{super().__str__()}: remote action is not enabled for API triggering "
            "(targeting.apiEnabled is false) or the API credentials lack the permission"
        )
