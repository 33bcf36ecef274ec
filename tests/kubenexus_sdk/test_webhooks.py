"""Receiving webhooks: signatures checked in constant time, events parsed by name."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from kubenexus_sdk import InputValidationError, webhooks

SECRET = "whsec_4f2a"
BODY = json.dumps(
    {
        "event": "cluster.created",
        "id": "evt_1",
        "timestamp": "2024-06-01T10:00:00Z",
        "data": {"id": 7, "name": "prod-eks", "cluster_type": "eks", "status": "active"},
    }
).encode()


def signature(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_a_good_signature_verifies_with_or_without_prefix() -> None:
    assert webhooks.verify_signature(BODY, signature(BODY), SECRET)
    assert webhooks.verify_signature(BODY, "sha256=" + signature(BODY), SECRET)
    assert webhooks.verify_signature(BODY, "SHA256=" + signature(BODY).upper(), SECRET)
    assert webhooks.sign(BODY, SECRET) == "sha256=" + signature(BODY)


def test_a_tampered_body_is_rejected() -> None:
    tampered = BODY.replace(b"prod-eks", b"evil-eks")
    assert not webhooks.verify_signature(tampered, signature(BODY), SECRET)


@pytest.mark.parametrize(
    "header", [None, "", "sha256=", "sha256=zz", signature(BODY, "other-secret")]
)
def test_missing_malformed_or_foreign_signatures_are_rejected(header: str | None) -> None:
    assert not webhooks.verify_signature(BODY, header, SECRET)


def test_comparison_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)  # the module webhooks calls through
    webhooks.verify_signature(BODY, signature(BODY), SECRET)
    assert len(calls) == 1


def test_an_empty_secret_is_a_usage_error() -> None:
    with pytest.raises(InputValidationError):
        webhooks.verify_signature(BODY, signature(BODY), "")


@pytest.mark.parametrize(
    ("name", "data", "cls"),
    [
        (
            "cluster.created",
            {"id": 1, "name": "a", "cluster_type": "eks"},
            webhooks.ClusterCreatedEvent,
        ),
        (
            "cluster.updated",
            {"id": 1, "name": "a", "cluster_type": "gke"},
            webhooks.ClusterUpdatedEvent,
        ),
        ("cluster.deleted", {"id": 1}, webhooks.ClusterDeletedEvent),
        (
            "alert.triggered",
            {"id": 5, "severity": "critical", "title": "Node down"},
            webhooks.AlertTriggeredEvent,
        ),
        (
            "anomaly.detected",
            {"id": 2, "severity": "high", "metric_name": "cpu"},
            webhooks.AnomalyDetectedEvent,
        ),
        (
            "recommendation.created",
            {"id": 9, "confidence": 0.8},
            webhooks.RecommendationCreatedEvent,
        ),
    ],
)
def test_each_documented_event_parses_to_its_type(
    name: str, data: dict[str, Any], cls: type
) -> None:
    event = webhooks.parse_event(json.dumps({"event": name, "data": data}))
    assert type(event) is cls
    assert event.event == name


def test_event_data_is_typed() -> None:
    event = webhooks.parse_event(BODY)
    assert isinstance(event, webhooks.ClusterCreatedEvent)
    assert event.data.name == "prod-eks"
    assert event.id == "evt_1"
    deleted = webhooks.parse_event(b'{"event": "cluster.deleted", "data": {"id": 7}}')
    assert isinstance(deleted, webhooks.ClusterDeletedEvent)
    assert deleted.cluster_id == 7


def test_an_unknown_event_name_parses_to_a_generic_event() -> None:
    event = webhooks.parse_event(
        b'{"event": "cluster.scaled", "data": {"id": 7, "nodes": 9}, "extra": 1}'
    )
    assert type(event) is webhooks.GenericEvent
    assert event.event == "cluster.scaled"
    assert event.data == {"id": 7, "nodes": 9}
    assert event.model_extra == {"extra": 1}


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"data": {}}',
        b'{"event": "cluster.created", "data": {"name": "no id"}}',
    ],
)
def test_malformed_deliveries_are_input_errors(body: bytes) -> None:
    with pytest.raises(InputValidationError):
        webhooks.parse_event(body)
