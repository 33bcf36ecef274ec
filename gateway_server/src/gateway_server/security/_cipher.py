"""Encryption at rest for third-party secrets (OAuth provider tokens): AES-256-GCM
from ``cryptography``, a random nonce per value, the record's id as associated
data (a ciphertext copied onto another record does not decrypt). The key comes
from configuration, never from the database."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["Cipher", "CipherError", "load_key"]

_NONCE = 12
_VERSION = b"\x01"


class CipherError(ValueError):
    """The value was not encrypted with this key for this record."""


def load_key(configured: str | None, data_dir: Path, name: str) -> bytes:
    """The 32-byte key: the configured base64url value, else one generated once
    in the data directory (file mode 0600)."""
    if configured:
        key = base64.urlsafe_b64decode(configured + "=" * (-len(configured) % 4))
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / name
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
        text = path.read_text().strip()
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if len(key) != 32:
        raise ValueError(f"{name}: the key must be 32 bytes, base64url-encoded")
    return key


class Cipher:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "Cipher(<key hidden>)"

    def encrypt(self, plaintext: bytes, context: str) -> bytes:
        nonce = secrets.token_bytes(_NONCE)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def decrypt(self, blob: bytes, context: str) -> bytes:
        if blob[:1] != _VERSION or len(blob) < 1 + _NONCE + 16:
            raise CipherError("not a value of this cipher")
        nonce, sealed = blob[1 : 1 + _NONCE], blob[1 + _NONCE :]
        try:
            return self._aead.decrypt(nonce, sealed, context.encode())
        except InvalidTag:
            raise CipherError("wrong key or record") from None
