"""Receiving KubeNexus webhooks: check the signature, then parse the event.

::

    from kubenexus_sdk import webhooks

    if not webhooks.verify_signature(raw_body, request.headers["X-KubeNexus-Signature"], secret):
        return 401
    event = webhooks.parse_event(raw_body)
    if isinstance(event, webhooks.ClusterCreatedEvent):
        ...

Deliveries carry an HMAC-SHA256 of the raw body made with the webhook's
secret, hex-encoded, optionally prefixed ``sha256=``. Verify the bytes as
received, before any JSON decoding. An event name this SDK does not know
parses to :class:`GenericEvent` instead of failing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from typing import Any, Literal

import pydantic
from pydantic import Field

from sdk_core import BaseModel, InputValidationError, input_error_from

from ._models import Alert, Anomaly, Cluster, Recommendation

__all__ = [
    "SIGNATURE_HEADER",
    "AlertTriggeredEvent",
    "AnomalyDetectedEvent",
    "ClusterCreatedEvent",
    "ClusterDeletedEvent",
    "ClusterUpdatedEvent",
    "GenericEvent",
    "RecommendationCreatedEvent",
    "WebhookEventModel",
    "parse_event",
    "sign",
    "verify_signature",
]

SIGNATURE_HEADER = "X-KubeNexus-Signature"


def sign(raw_body: bytes, secret: str | bytes) -> str:
    """The signature a delivery of ``raw_body`` carries: ``sha256=<hex>``."""
    key = secret.encode() if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, raw_body, hashlib.sha256).hexdigest()


def verify_signature(raw_body: bytes, signature_header: str | None, secret: str | bytes) -> bool:
    """Whether ``signature_header`` is the HMAC-SHA256 of ``raw_body`` under ``secret``.

    Compared in constant time; a missing or malformed header is ``False``.
    """
    if not secret:
        raise InputValidationError("secret", "must not be empty")
    if not signature_header or not isinstance(raw_body, (bytes, bytearray)):
        return False
    given = signature_header.strip()
    if given.lower().startswith("sha256="):
        given = given[len("sha256=") :]
    expected = sign(bytes(raw_body), secret)[len("sha256=") :]
    return hmac.compare_digest(given.lower().encode(), expected.encode())


class WebhookEventModel(BaseModel):
    """What every delivery has: the event name, when, and its data."""

    event: str
    id: str | None = None
    timestamp: dt.datetime | None = None
    data: Any = None


class ClusterCreatedEvent(WebhookEventModel):
    event: Literal["cluster.created"] = "cluster.created"
    data: Cluster


class ClusterUpdatedEvent(WebhookEventModel):
    event: Literal["cluster.updated"] = "cluster.updated"
    data: Cluster
    changes: dict[str, Any] = Field(default_factory=dict)


class ClusterDeletedEvent(WebhookEventModel):
    event: Literal["cluster.deleted"] = "cluster.deleted"
    data: dict[str, Any]

    @property
    def cluster_id(self) -> Any:
        return self.data.get("id", self.data.get("cluster_id"))


class AlertTriggeredEvent(WebhookEventModel):
    event: Literal["alert.triggered"] = "alert.triggered"
    data: Alert


class AnomalyDetectedEvent(WebhookEventModel):
    event: Literal["anomaly.detected"] = "anomaly.detected"
    data: Anomaly


class RecommendationCreatedEvent(WebhookEventModel):
    event: Literal["recommendation.created"] = "recommendation.created"
    data: Recommendation


class GenericEvent(WebhookEventModel):
    """An event name this SDK does not know (yet): the data is kept as sent."""


_BY_NAME: dict[str, type[WebhookEventModel]] = {
    "cluster.created": ClusterCreatedEvent,
    "cluster.updated": ClusterUpdatedEvent,
    "cluster.deleted": ClusterDeletedEvent,
    "alert.triggered": AlertTriggeredEvent,
    "anomaly.detected": AnomalyDetectedEvent,
    "recommendation.created": RecommendationCreatedEvent,
}


def parse_event(raw_body: bytes | str) -> WebhookEventModel:
    """The typed event of a delivery (:class:`GenericEvent` for an unknown name).

    Raises :class:`InputValidationError` when the body is not a JSON object with
    an ``event`` name, or when a known event's data does not fit its model.
    """
    try:
        payload = json.loads(raw_body)
    except ValueError:
        raise InputValidationError("raw_body", "is not JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("event"), str):
        raise InputValidationError("raw_body", "has no 'event' name")
    model = _BY_NAME.get(payload["event"], GenericEvent)
    try:
        return model.model_validate(payload)
    except pydantic.ValidationError as exc:
        raise input_error_from(exc, "raw_body") from None
