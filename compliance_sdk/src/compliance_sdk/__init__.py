"""compliance_sdk: the compliance platform's REST client and gRPC agent (coming).

Today the package holds the agent channel's generated stubs (``compliance_sdk._proto``,
from ``contracts/compliance.proto``); ``ComplianceClient`` / ``AsyncComplianceClient``
(issue 18) and ``compliance_sdk.agent`` (issue 19) are built on them and on
``contracts/compliance.openapi.yaml``.
"""

from ._version import __version__

__all__ = ["__version__"]
