"""The EXASPERATION emulator (contracts/exasperation.openapi.yaml)."""

from ._api import ExasperationEmulator
from ._corpus import Corpus, Document

__all__ = ["Corpus", "Document", "ExasperationEmulator"]
