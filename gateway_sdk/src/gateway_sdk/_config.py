"""What a gateway client is built from when the caller leaves it out: the
environment, read once at construction (I/O-free but for ``os.environ``).

``GATEWAY_BASE_URL`` for both clients; ``GATEWAY_TOKEN`` for a customer (a
bearer JWT); ``GATEWAY_DEVICE_ID`` and ``GATEWAY_DEVICE_SECRET`` for a device.
"""

from __future__ import annotations

import os

from sdk_core import InputValidationError, Secret

from ._requests import valid_device_id

__all__ = ["customer_token", "device_identity", "gateway_url"]

BASE_URL_ENV = "GATEWAY_BASE_URL"
TOKEN_ENV = "GATEWAY_TOKEN"  # noqa: S105 - the variable's name, not a secret
DEVICE_ID_ENV = "GATEWAY_DEVICE_ID"
DEVICE_SECRET_ENV = "GATEWAY_DEVICE_SECRET"  # noqa: S105 - the variable's name


def gateway_url(base_url: str | None) -> str:
    url = base_url if base_url is not None else os.environ.get(BASE_URL_ENV)
    if not url:
        raise InputValidationError("base_url", f"pass base_url or set {BASE_URL_ENV}")
    return url


def customer_token(token: str | Secret | None) -> Secret:
    value = Secret(token if token is not None else os.environ.get(TOKEN_ENV, ""))
    if not value:
        raise InputValidationError("token", f"a customer JWT is required (or set {TOKEN_ENV})")
    return value


def device_identity(
    device: str | None, secret: str | Secret | None, *, has_store: bool
) -> tuple[str, Secret | None]:
    """The device id (checked before anything is sent) and the secret to
    store, if any: the one given, else (without a store of the caller's)
    ``GATEWAY_DEVICE_SECRET``."""
    value = device if device is not None else os.environ.get(DEVICE_ID_ENV, "")
    if not value and device is None:
        raise InputValidationError("device_id", f"pass device_id or set {DEVICE_ID_ENV}")
    if secret is None and not has_store:
        secret = os.environ.get(DEVICE_SECRET_ENV) or None
    return valid_device_id(value), Secret(secret) if secret else None
