"""KubeNexus models: the envelope, and what it carries.

Every answer is ``{status, data, message}``; lists add ``pagination``. The
clients unwrap it: users get the models in ``data``, never the envelope.
Response models keep fields the platform adds later.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from typing import Annotated, Any, Generic, Literal, TypeVar, get_args

from pydantic import AfterValidator, Field

from sdk_core import BaseModel, matching

T = TypeVar("T")

__all__ = [
    "Alert",
    "Anomaly",
    "Cluster",
    "ClusterHealth",
    "ClusterMetrics",
    "ClusterType",
    "ErrorCode",
    "LoginResult",
    "Order",
    "Pagination",
    "Problem",
    "Recommendation",
    "Resolution",
    "Role",
    "Severity",
    "TimeSeries",
    "TimeSeriesPoint",
    "User",
    "UserStatus",
    "Webhook",
    "WebhookEvent",
]

ClusterType = Literal["on_premise", "eks", "gke", "aks"]
CLOUD_CLUSTER_TYPES = ("eks", "gke", "aks")
Severity = Literal["critical", "high", "medium", "low"]
Resolution = Literal["1m", "5m", "1h", "1d"]
Order = Literal["asc", "desc"]
UserStatus = Literal["active", "inactive", "suspended"]
WebhookEvent = Literal[
    "cluster.created",
    "cluster.updated",
    "cluster.deleted",
    "alert.triggered",
    "anomaly.detected",
    "recommendation.created",
]
WEBHOOK_EVENTS: tuple[str, ...] = get_args(WebhookEvent)

# The contract's pattern for an e-mail address.
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
Email = Annotated[
    str, AfterValidator(matching(EMAIL_RE, "an e-mail address like user@example.com"))
]


class ErrorCode(enum.StrEnum):
    """The error codes the platform documents (``error.code`` on every error)."""

    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"  # noqa: S105 - an error code, not a secret
    INSUFFICIENT_PERMISSIONS = "INSUFFICIENT_PERMISSIONS"
    CLUSTER_NOT_FOUND = "CLUSTER_NOT_FOUND"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    RATE_LIMIT_EXCEEDED = "RATE_LIMIT_EXCEEDED"


class Pagination(BaseModel):
    page: int
    limit: int
    total: int
    pages: int
    has_next: bool
    has_prev: bool = False


class Envelope(BaseModel, Generic[T]):
    status: str
    data: T
    message: str | None = None


class ListEnvelope(BaseModel, Generic[T]):
    status: str
    data: list[T]
    message: str | None = None
    pagination: Pagination | None = None


class User(BaseModel):
    id: int | str
    username: str
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    status: UserStatus | str | None = None
    roles: list[str] = Field(default_factory=list)


class LoginResult(BaseModel):
    token_type: str | None = None
    expires_in: int | None = None
    user: User | None = None


class Role(BaseModel):
    id: int | str | None = None
    name: str
    description: str | None = None
    permissions: list[str] = Field(default_factory=list)


class Cluster(BaseModel):
    id: int | str
    name: str
    description: str | None = None
    cluster_type: ClusterType | str
    status: str | None = None
    provider: str | None = None
    region: str | None = None
    cloud_provider_id: int | str | None = None
    version: str | None = None
    node_count: int | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


class ClusterHealth(BaseModel):
    cluster_id: int | str
    status: str | None = None
    healthy: bool
    node_count: int | None = None
    ready_nodes: int | None = None
    version: str | None = None
    last_check: dt.datetime | None = None
    errors: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


class ClusterMetrics(BaseModel):
    cluster_id: int | str
    cpu_usage: float | None = None
    memory_usage: float | None = None
    pod_count: int | None = None
    node_count: int | None = None
    timestamp: dt.datetime | None = None


class TimeSeriesPoint(BaseModel):
    timestamp: dt.datetime
    value: float


class TimeSeries(BaseModel):
    metric_name: str
    resolution: Resolution | str | None = None
    cluster_id: int | str | None = None
    points: list[TimeSeriesPoint]


class Alert(BaseModel):
    id: int | str
    title: str | None = None
    severity: Severity | str | None = None
    status: str | None = None
    cluster_id: int | str | None = None
    message: str | None = None
    created_at: dt.datetime | None = None
    acknowledged_at: dt.datetime | None = None


class Anomaly(BaseModel):
    id: int | str
    cluster_id: int | str | None = None
    severity: Severity | str | None = None
    metric_name: str | None = None
    description: str | None = None
    resolved: bool | None = None
    acknowledged: bool | None = None
    detected_at: dt.datetime | None = None


class Recommendation(BaseModel):
    id: int | str
    cluster_id: int | str | None = None
    category: str | None = None
    title: str | None = None
    description: str | None = None
    confidence: float | None = None
    created_at: dt.datetime | None = None


class Problem(BaseModel):
    id: int | str
    cluster_id: int | str | None = None
    title: str | None = None
    status: str | None = None
    severity: Severity | str | None = None
    anomaly_ids: list[int | str] = Field(default_factory=list)
    created_at: dt.datetime | None = None


class Webhook(BaseModel):
    id: int | str
    url: str
    events: list[WebhookEvent | str]
    active: bool | None = None
    description: str | None = None
    created_at: dt.datetime | None = None


def unwrap(value: Any) -> Any:
    """``data`` of an envelope (or the value itself when it is not one)."""
    return value.data if isinstance(value, (Envelope, ListEnvelope)) else value
