"""compliance_sdk.agent: the compliance platform's agent (issue 19).

Discovers the appliance (DNS SRV ``_osiris-grpc._tcp.<domain>``, then
``OSIRIS_APPLIANCE_ADDR``, then the config file), enrolls with a site's
enrollment token (its own ECDSA P-256 key, a CSR, the CA pinned by the
fingerprint given with the token), then speaks mutual TLS: a drift stream
that survives server restarts (unacknowledged events re-sent with their event
ids), heal commands to a handler the user registers, heartbeats, RMM reports,
and certificate renewal before expiry.

``AsyncComplianceAgent`` is the asyncio agent; ``ComplianceAgent`` the same
with blocking calls (``run()`` blocks); ``compliance-agent`` the CLI.
"""

from ._async_agent import AsyncComplianceAgent
from ._config import AgentConfig
from ._errors import AgentError, AgentRefusedError, EnrollmentError, NotEnrolledError, PinError
from ._identity import AgentIdentity, AgentState
from ._models import HealCommand, HealHandler, HealOutcome, RMMAgent
from ._rules import Endpoint
from ._sync_agent import ComplianceAgent

__all__ = [
    "AgentConfig",
    "AgentError",
    "AgentIdentity",
    "AgentRefusedError",
    "AgentState",
    "AsyncComplianceAgent",
    "ComplianceAgent",
    "Endpoint",
    "EnrollmentError",
    "HealCommand",
    "HealHandler",
    "HealOutcome",
    "NotEnrolledError",
    "PinError",
    "RMMAgent",
]
