"""The Nexthink emulator (contracts/nexthink.openapi.yaml) and its export storage."""

from ._api import STORAGE, NexthinkEmulator, credentials
from ._nql import SavedQuery, Tables

__all__ = ["credentials", "STORAGE", "NexthinkEmulator", "SavedQuery", "Tables"]
