"""The compliance resources, in sync/async pairs over :mod:`.._requests`, each
with its typed ``with_raw_response`` view."""

from .escalations import (
    AsyncEscalations,
    AsyncEscalationsWithRawResponse,
    Escalations,
    EscalationsWithRawResponse,
)
from .fleet import (
    AsyncFleet,
    AsyncFleetWithRawResponse,
    Fleet,
    FleetWithRawResponse,
)
from .incidents import (
    AsyncIncidents,
    AsyncIncidentsWithRawResponse,
    Incidents,
    IncidentsWithRawResponse,
)
from .integrations import (
    AsyncIntegrations,
    AsyncIntegrationsWithRawResponse,
    Integrations,
    IntegrationsWithRawResponse,
)
from .learning import (
    AsyncLearning,
    AsyncLearningWithRawResponse,
    Learning,
    LearningWithRawResponse,
)
from .runbooks import (
    AsyncRunbooks,
    AsyncRunbooksWithRawResponse,
    Runbooks,
    RunbooksWithRawResponse,
)
from .sites import (
    AsyncSites,
    AsyncSitesWithRawResponse,
    Sites,
    SitesWithRawResponse,
)

__all__ = [
    "AsyncEscalations",
    "AsyncEscalationsWithRawResponse",
    "AsyncFleet",
    "AsyncFleetWithRawResponse",
    "AsyncIncidents",
    "AsyncIncidentsWithRawResponse",
    "AsyncIntegrations",
    "AsyncIntegrationsWithRawResponse",
    "AsyncLearning",
    "AsyncLearningWithRawResponse",
    "AsyncRunbooks",
    "AsyncRunbooksWithRawResponse",
    "AsyncSites",
    "AsyncSitesWithRawResponse",
    "Escalations",
    "EscalationsWithRawResponse",
    "Fleet",
    "FleetWithRawResponse",
    "Incidents",
    "IncidentsWithRawResponse",
    "Integrations",
    "IntegrationsWithRawResponse",
    "Learning",
    "LearningWithRawResponse",
    "Runbooks",
    "RunbooksWithRawResponse",
    "Sites",
    "SitesWithRawResponse",
]
