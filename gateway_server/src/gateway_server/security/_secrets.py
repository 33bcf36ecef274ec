"""Secrets the server hands out, and how they are kept.

Every secret (device secrets, session tokens, claim tokens, activation codes)
is random from ``secrets`` and stored only as its SHA-256. These are
high-entropy values (256 bits, activation codes 80), so a fast hash is
enough: there is nothing to brute-force. Lookups go by hash, and presented
values are compared with ``hmac.compare_digest``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["activation_code", "hash_secret", "new_secret", "same_hash"]


def new_secret(nbytes: int = 32) -> str:
    """A URL-safe random secret (256 bits by default)."""
    return secrets.token_urlsafe(nbytes)


def activation_code() -> str:
    """A one-time activation code a person can type: 16 base32 characters (80 bits)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def hash_secret(value: str) -> str:
    """The SHA-256 of the value exactly as presented: ``" s"`` is not ``"s"``.

    (Hashes stored before this compared exactly were made of stripped
    values; every secret the server hands out is URL-safe base64 or an
    activation code, with no whitespace to strip, so they are the same.)"""
    return hashlib.sha256(value.encode()).hexdigest()


def same_hash(stored: str | None, presented: str) -> bool:
    if not stored:
        return False
    return hmac.compare_digest(stored, hash_secret(presented))
