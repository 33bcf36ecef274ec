"""The KubeNexus emulator (contracts/kubenexus.openapi.yaml)."""

from ._api import KubeNexusEmulator, credentials
from ._store import Store
from ._webhooks import signature

__all__ = ["credentials", "KubeNexusEmulator", "Store", "signature"]
