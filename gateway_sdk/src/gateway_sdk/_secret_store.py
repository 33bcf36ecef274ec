"""Where a device keeps its secret: shown once by the server at registration.

:class:`SecretStore` is the protocol; :class:`MemorySecretStore` and
:class:`FileSecretStore` are the two kept here. :func:`keep_secret` is the one
place a registration's answer meets the store.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol

from sdk_core import SDKError, Secret

from ._models import RegisteredDevice

__all__ = [
    "FileSecretStore",
    "MemorySecretStore",
    "SecretNotSavedError",
    "SecretStore",
    "keep_secret",
]


class SecretStore(Protocol):
    """Where a device keeps its secret between runs."""

    def load(self) -> str | None: ...

    def save(self, secret: str) -> None: ...


class MemorySecretStore:
    def __init__(self, secret: str | Secret | None = None) -> None:
        self._secret = Secret(secret) if secret else None

    def load(self) -> str | None:
        return self._secret.reveal() if self._secret else None

    def save(self, secret: str) -> None:
        self._secret = Secret(secret)

    def __repr__(self) -> str:
        return f"MemorySecretStore(secret={'set' if self._secret else 'unset'})"


class FileSecretStore:
    """A file readable by its owner only (mode 0600).

    The server shows a device secret once, so ``save`` makes it durable before
    it counts as saved: written to a new temporary file beside the target,
    flushed to disk, renamed over the target, and the directory entry flushed
    too. A crash or power cut at any point leaves the old file or the new one,
    never an empty or partial one; a failed save leaves the old one untouched.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self) -> str | None:
        try:
            return self.path.read_text().strip() or None
        except FileNotFoundError:
            return None

    def save(self, secret: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # mkstemp: a fresh name, created 0600, never a leftover of another writer
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secret)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        if os.name == "posix":  # the rename itself on disk (no directory handles on Windows)
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def __repr__(self) -> str:
        return f"FileSecretStore({str(self.path)!r})"


class SecretNotSavedError(SDKError):
    """The device is registered, but its secret store failed to keep the secret.

    The server shows a device secret once and the activation code is spent,
    so the secret is here (``secret``, a :class:`Secret`: redacted in reprs
    and logs; ``secret.reveal()`` gives it) for the caller to keep elsewhere.
    Without it the device cannot authenticate again. The store's own error is
    the ``__cause__``.
    """

    def __init__(self, device_id: str, secret: Secret) -> None:
        super().__init__(
            f"device {device_id} is registered but its secret could not be saved; "
            "keep error.secret elsewhere now, it is not shown again"
        )
        self.device_id = device_id
        self.secret = secret


def keep_secret(store: SecretStore, device_id: str, answer: dict[str, Any]) -> RegisteredDevice:
    """The registered device, once its shown-once secret is in ``store`` (the
    secret first: nothing else in the answer may stand in its way)."""
    secret = str(answer["deviceSecret"])
    try:
        store.save(secret)
    except Exception as exc:
        raise SecretNotSavedError(device_id, Secret(secret)) from exc
    return RegisteredDevice.model_validate(answer["device"])
