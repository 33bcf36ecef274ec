"""The Nexthink emulator (contracts/nexthink.openapi.yaml) and its export storage."""

from ._api import STORAGE, NexthinkEmulator
from ._nql import SavedQuery, Tables

__all__ = ["STORAGE", "NexthinkEmulator", "SavedQuery", "Tables"]
