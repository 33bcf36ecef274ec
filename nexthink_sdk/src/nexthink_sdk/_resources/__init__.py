"""The resources of the Nexthink clients, in sync/async pairs over :mod:`.._requests`."""

from .actions import (
    AsyncCampaigns,
    AsyncRemoteActions,
    AsyncWorkflows,
    Campaigns,
    RemoteActions,
    Workflows,
)
from .data import AsyncDataManagement, AsyncEnrichments, DataManagement, Enrichments
from .nql import (
    NQL,
    AsyncNQL,
    AsyncNQLWithRawResponse,
    AsyncNQLWithStreamingResponse,
    NQLWithRawResponse,
    NQLWithStreamingResponse,
)

__all__ = [
    "NQL",
    "AsyncCampaigns",
    "AsyncDataManagement",
    "AsyncEnrichments",
    "AsyncNQL",
    "AsyncNQLWithRawResponse",
    "AsyncNQLWithStreamingResponse",
    "AsyncRemoteActions",
    "AsyncWorkflows",
    "Campaigns",
    "DataManagement",
    "Enrichments",
    "NQLWithRawResponse",
    "NQLWithStreamingResponse",
    "RemoteActions",
    "Workflows",
]
