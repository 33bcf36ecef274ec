"""The EXASPERATION emulator (contracts/exasperation.openapi.yaml)."""

from ._api import ExasperationEmulator, credentials
from ._corpus import Corpus, Document

__all__ = ["credentials", "Corpus", "Document", "ExasperationEmulator"]
