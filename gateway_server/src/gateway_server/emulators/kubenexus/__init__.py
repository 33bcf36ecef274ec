"""The KubeNexus emulator (contracts/kubenexus.openapi.yaml)."""

from ._api import KubeNexusEmulator
from ._store import Store
from ._webhooks import signature

__all__ = ["KubeNexusEmulator", "Store", "signature"]
