"""Passwords: argon2id hashes (argon2-cffi), verified off the event loop.

A password, unlike the random secrets of ``_secrets.py``, can be guessed, so
it is hashed with a memory-hard function. An unknown user is verified
against a dummy hash of the same cost, so that a wrong username and a wrong
password take about the same time (and get the same answer from the caller).
"""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["Passwords"]


class Passwords:
    """argon2id at ``memory_kib`` and ``time_cost`` (OWASP's minimum by
    default: 19 MiB, 2 passes, one lane), about 0.1 s a hash here."""

    def __init__(self, memory_kib: int = 19_456, time_cost: int = 2) -> None:
        self.hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
        self._dummy = self.hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def _verify(self, stored: str | None, password: str) -> bool:
        try:
            return self.hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    async def verify(self, stored: str | None, password: str) -> bool:
        """Does ``password`` match ``stored`` (None: no such user, always False,
        in the time a real check takes)? Runs in a worker thread."""
        return await asyncio.to_thread(self._verify, stored, password)
