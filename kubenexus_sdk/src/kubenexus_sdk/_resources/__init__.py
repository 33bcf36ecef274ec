"""The KubeNexus resources, in sync/async pairs over :mod:`.._requests`."""

from .clusters import AsyncClusters, AsyncClustersWithRawResponse, Clusters, ClustersWithRawResponse
from .monitoring import (
    Alerts,
    AlertsWithRawResponse,
    AsyncAlerts,
    AsyncAlertsWithRawResponse,
    AsyncMetrics,
    AsyncMetricsWithRawResponse,
    Metrics,
    MetricsWithRawResponse,
)
from .sre import SRE, AsyncSRE, AsyncSREWithRawResponse, SREWithRawResponse
from .users import (
    AsyncRoles,
    AsyncRolesWithRawResponse,
    AsyncUsers,
    AsyncUsersWithRawResponse,
    Roles,
    RolesWithRawResponse,
    Users,
    UsersWithRawResponse,
)
from .webhooks import (
    AsyncWebhooks,
    AsyncWebhooksWithRawResponse,
    Webhooks,
    WebhooksWithRawResponse,
)

__all__ = [
    "SRE",
    "SREWithRawResponse",
    "Alerts",
    "AlertsWithRawResponse",
    "AsyncAlerts",
    "AsyncAlertsWithRawResponse",
    "AsyncClusters",
    "AsyncClustersWithRawResponse",
    "AsyncMetrics",
    "AsyncMetricsWithRawResponse",
    "AsyncRoles",
    "AsyncRolesWithRawResponse",
    "AsyncSRE",
    "AsyncSREWithRawResponse",
    "AsyncUsers",
    "AsyncUsersWithRawResponse",
    "AsyncWebhooks",
    "AsyncWebhooksWithRawResponse",
    "Clusters",
    "ClustersWithRawResponse",
    "Metrics",
    "MetricsWithRawResponse",
    "Roles",
    "RolesWithRawResponse",
    "Users",
    "UsersWithRawResponse",
    "Webhooks",
    "WebhooksWithRawResponse",
]
