"""The compliance platform's records, as contracts/compliance.openapi.yaml
states them. Response models keep fields the platform adds later."""

from __future__ import annotations

import datetime as dt
from typing import Generic, Literal, TypeVar

from sdk_core import BaseModel, html_fields

__all__ = [
    "Agent",
    "AgentStatus",
    "AwsRoleDetails",
    "CandidateStatus",
    "CapabilityTier",
    "CheckCompliance",
    "CheckType",
    "Connector",
    "CurrentSession",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryStatus",
    "DriftData",
    "EnrollmentToken",
    "EnrollmentTokenCreated",
    "EscalationNotification",
    "ExecutionStatus",
    "FleetAgents",
    "FleetRmm",
    "FleetSiteOverview",
    "FleetSiteSummary",
    "Incident",
    "IncidentDetail",
    "LearningCandidate",
    "ListEnvelope",
    "LoginResult",
    "OAuthAuthorization",
    "OAuthProvider",
    "Priority",
    "Provider",
    "RmmAgent",
    "RmmProduct",
    "RmmReport",
    "Role",
    "Runbook",
    "RunbookExecution",
    "RunbookLevel",
    "RunbookStep",
    "Severity",
    "Site",
    "TokenStatus",
    "User",
]

T = TypeVar("T")

Role = Literal["admin", "operator", "viewer"]
CheckType = Literal["bitlocker", "defender", "firewall", "patches", "screenlock", "rmm"]
Severity = Literal["critical", "high", "medium", "low"]
CapabilityTier = Literal["monitor_only", "self_heal", "full_remediation"]
AgentStatus = Literal["online", "offline", "revoked"]
RunbookLevel = Literal["L1", "L2", "L3"]
Provider = Literal["google_workspace", "azure_ad", "okta", "aws"]
OAuthProvider = Literal["google_workspace", "azure_ad", "okta"]
Priority = Literal["low", "medium", "high", "critical"]
DeliveryStatus = Literal["pending", "delivered", "failed", "not_configured"]
TokenStatus = Literal["active", "expired", "exhausted", "revoked"]
ExecutionStatus = Literal["pending", "succeeded", "failed", "timed_out"]
CandidateStatus = Literal["pending", "promoted", "rejected"]


class ListEnvelope(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class User(BaseModel):
    id: str
    username: str
    role: str
    partner_id: str


class LoginResult(BaseModel):
    user: User
    expires_at: dt.datetime


class CurrentSession(BaseModel):
    user: User
    expires_at: dt.datetime


class Site(BaseModel):
    id: str
    name: str
    partner_id: str
    capability_tier: str
    created_at: dt.datetime
    updated_at: dt.datetime


class EnrollmentToken(BaseModel):
    id: str
    site_id: str
    description: str | None
    token_prefix: str
    status: str
    max_uses: int | None
    uses: int
    expires_at: dt.datetime
    created_at: dt.datetime
    created_by: str | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    ca_fingerprint_sha256: str


class EnrollmentTokenCreated(EnrollmentToken):
    token: str
    """Shown this once: hand it to the agents (only its hash is kept)."""
    ca_cert_pem: str


class RmmAgent(BaseModel):
    name: str
    version: str
    running: bool
    service_name: str


class RmmReport(BaseModel):
    reported_at: dt.datetime
    agents: list[RmmAgent]


class Agent(BaseModel):
    id: str
    site_id: str
    hostname: str
    os_version: str
    agent_version: str
    mac_address: str | None
    status: str
    enrolled_at: dt.datetime
    last_checkin: dt.datetime | None
    certificate_expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    drift_count: int
    healing_count: int
    failing_checks: list[str]
    rmm: RmmReport | None


class FleetSiteSummary(BaseModel):
    site_id: str
    site_name: str
    agents_total: int
    agents_online: int
    last_checkin: dt.datetime | None
    open_incidents: int
    compliance_rate: float | None


class FleetAgents(BaseModel):
    total: int
    online: int
    offline: int
    revoked: int


class CheckCompliance(BaseModel):
    check_type: str
    reporting: int
    passing: int
    failing: int
    rate: float | None


class RmmProduct(BaseModel):
    name: str
    hosts: int
    running: int


class FleetRmm(BaseModel):
    agents_reporting: int
    agents_with_rmm_running: int
    products: list[RmmProduct]


class FleetSiteOverview(BaseModel):
    site_id: str
    site_name: str
    capability_tier: str
    agents: FleetAgents
    last_checkin: dt.datetime | None
    open_incidents: int
    compliance: list[CheckCompliance]
    rmm: FleetRmm


class Incident(BaseModel):
    id: str
    site_id: str
    hostname: str
    check_type: str
    severity: str
    resolved: bool
    resolved_at: dt.datetime | None
    hipaa_controls: list[str]
    created_at: dt.datetime

    def _repr_html_(self) -> str:
        """The incident's fields as a table in a notebook (a detail's drift and
        runbook execution as dotted names), escaped."""
        state = "resolved" if self.resolved else "open"
        title = f"{self.severity} {self.check_type} incident on {self.hostname} ({state})"
        return html_fields(self, caption=title)


class DriftData(BaseModel):
    agent_id: str | None
    expected: str
    actual: str
    hipaa_control: str
    metadata: dict[str, str]
    observed_at: dt.datetime
    occurrences: int
    last_seen_at: dt.datetime


class RunbookExecution(BaseModel):
    id: str
    runbook_id: str
    site_id: str
    agent_id: str | None
    hostname: str
    incident_id: str | None
    command_id: str
    status: str
    error_message: str | None
    artifacts: dict[str, str]
    started_at: dt.datetime
    finished_at: dt.datetime | None


class IncidentDetail(Incident):
    drift: DriftData
    runbook_execution: RunbookExecution | None
    resolved_by: str | None
    resolved_by_user_id: str | None
    resolution_note: str | None


class RunbookStep(BaseModel):
    action: str
    params: dict[str, str]


class Runbook(BaseModel):
    id: str
    name: str
    description: str
    level: str
    check_type: str
    hipaa_controls: list[str]
    is_disruptive: bool
    steps: list[RunbookStep]
    partner_id: str | None
    source_candidate_id: str | None
    execution_count: int
    success_rate: float | None
    created_at: dt.datetime


class LearningCandidate(BaseModel):
    id: str
    site_id: str
    check_type: str
    issue_signature: str
    resolution_steps: list[RunbookStep]
    occurrences: int
    success_count: int
    status: str
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    promoted_runbook_id: str | None
    decided_at: dt.datetime | None
    decided_by: str | None
    reject_reason: str | None


class AwsRoleDetails(BaseModel):
    role_arn: str | None
    external_id: str
    trusted_principal_arn: str | None


class Connector(BaseModel):
    """A site's cloud connector; its tokens stay on the server."""

    id: str
    site_id: str
    provider: str
    status: str
    account: str | None
    scopes: list[str]
    aws: AwsRoleDetails | None
    last_error: str | None
    connected_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class OAuthAuthorization(BaseModel):
    provider: str
    auth_url: str
    """Send the user's browser here; the provider brings it back to the callback."""
    state: str
    expires_at: dt.datetime


class DeliveryAttempt(BaseModel):
    attempt: int
    attempted_at: dt.datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class Delivery(BaseModel):
    status: str
    attempts: int
    delivered_at: dt.datetime | None
    next_attempt_at: dt.datetime | None
    log: list[DeliveryAttempt]


class EscalationNotification(BaseModel):
    id: str
    site_id: str
    incident_id: str | None
    priority: str
    subject: str
    message: str
    created_by: str | None
    created_at: dt.datetime
    delivery: Delivery
