"""The KubeNexus client against the server's KubeNexus emulator, over a real
socket, every request and answer checked against contracts/kubenexus.openapi.yaml
(beside the respx tests); webhooks received by a real local endpoint."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway_server.testing import LocalGateway
from kubenexus_sdk import AsyncKubeNexusClient, KubeNexusClient, webhooks
from sdk_core import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InputValidationError,
    NotFoundError,
    PermissionDeniedError,
)
from tests.contract import load
from tests.emulator_support import AsyncChecked, Checked, prefixed
from tests.support import LocalServer

DOCUMENTED = "https://api.kubenexus.example.com"


def client(server: LocalGateway, **auth: Any) -> KubeNexusClient:
    root = server.emulator_url("kubenexus")
    transport = Checked(load("kubenexus.openapi.yaml"), prefixed(root, DOCUMENTED))
    if not auth:
        auth = {"username": "admin", "password": "kubenexus-admin"}
    return KubeNexusClient(root, http_client=httpx.Client(transport=transport), **auth)


def test_clusters_filter_sort_and_page_through_the_envelope(gateway_server: LocalGateway) -> None:
    with client(gateway_server) as kn:
        pages = [[c.name for c in page.items] for page in kn.clusters.list(limit=3).pages()]
        eks = [c.name for c in kn.clusters.list(provider="aws")]
        eu = [c.name for c in kn.clusters.list(region="eu-west-1")]
        found = [c.name for c in kn.clusters.list(search="PROD-0", status="degraded")]
        newest = next(iter(kn.clusters.list(sort="created_at", order="desc", limit=1)))
        with pytest.raises(BadRequestError):
            next(iter(kn.clusters.list(sort="no_such_field")))
    assert pages[:3] == [
        ["prod-01", "prod-02", "prod-03"],
        ["prod-04", "prod-05", "prod-06"],
        ["prod-07"],
    ]
    assert eks == ["prod-01", "prod-02", "prod-07"]
    assert eu == ["prod-02"]
    assert found == ["prod-05"]
    assert newest.name == "prod-07"


def test_a_cluster_lives_and_dies_with_the_documented_rules(gateway_server: LocalGateway) -> None:
    with client(gateway_server) as kn:
        made = kn.clusters.create(
            name="kit-eks", cluster_type="eks", cloud_provider_id=7, region="eu-north-1"
        )
        with pytest.raises(ConflictError):
            kn.clusters.create(name="kit-eks", cluster_type="eks", cloud_provider_id=7)
        with pytest.raises(InputValidationError):  # refused before sending
            kn.clusters.create(name="kit-onprem", cluster_type="on_premise")
        patched = kn.clusters.patch(made.id, description="patched", tags={"env": "test"})
        health = kn.clusters.health_check(made.id)
        config = kn.clusters.kubeconfig(made.id)
        kn.clusters.delete(made.id)
        with pytest.raises(NotFoundError):
            kn.clusters.get(made.id)
    assert made.provider == "aws"
    assert patched.description == "patched"
    assert patched.tags == {"env": "test"}
    assert health.healthy
    assert health.ready_nodes == health.node_count == 3
    assert "kind: Config" in config


def test_permissions_follow_the_roles(gateway_server: LocalGateway) -> None:
    with client(gateway_server, api_key="kn-viewer-api-key") as viewer:
        assert any(c.name == "prod-01" for c in viewer.clusters.list())
        with pytest.raises(PermissionDeniedError) as refused:
            viewer.clusters.create(name="nope", cluster_type="gke", cloud_provider_id=1)
        with pytest.raises(PermissionDeniedError):
            next(iter(viewer.users.list()))
    assert refused.value.code == "INSUFFICIENT_PERMISSIONS"
    with (
        client(gateway_server, api_key="not-a-key") as stranger,
        pytest.raises(AuthenticationError),
    ):
        stranger.clusters.get(1)
    gone = client(gateway_server, username="suspended", password="kubenexus-suspended")
    with gone, pytest.raises(AuthenticationError):
        gone.clusters.get(1)


def test_users_roles_and_the_own_profile(gateway_server: LocalGateway) -> None:
    with client(gateway_server) as kn:
        made = kn.users.create(
            username="kit-user", email="kit@example.com", password="long-enough", roles=["viewer"]
        )
        with pytest.raises(ConflictError):
            kn.users.create(username="kit-user", email="kit@example.com", password="long-enough")
        suspended = [u.username for u in kn.users.list(status="suspended")]
        me = kn.users.me()
        permissions = kn.roles.permissions()
        kn.users.delete(made.id)
    assert made.roles == ["viewer"]
    assert suspended == ["suspended"]
    assert me.username == "admin"
    assert "cluster:delete" in permissions
    deleted = client(gateway_server, username="kit-user", password="long-enough")
    with deleted, pytest.raises(AuthenticationError):
        deleted.users.me()


def test_tokens_expire_on_the_server_clock_and_the_client_refreshes(
    gateway_server: LocalGateway,
) -> None:
    with client(gateway_server, username="operator", password="kubenexus-operator") as kn:
        kn.users.me()
        gateway_server.clock.advance(3601)  # past the access token, within the refresh token
        assert kn.users.me().username == "operator"
        kn.change_password("kubenexus-operator", "kubenexus-operator-2")
        kn.change_password("kubenexus-operator-2", "kubenexus-operator")
        kn.logout()
        assert kn.users.me().username == "operator"  # a fresh login after logout


def test_metrics_alerts_and_the_sre_agent(gateway_server: LocalGateway) -> None:
    start = dt.datetime(2024, 11, 1, tzinfo=dt.UTC)
    with client(gateway_server) as kn:
        metrics = kn.metrics.clusters(cluster_id=2)
        series = kn.metrics.timeseries(
            "cpu_usage",
            start_time=start,
            end_time=start + dt.timedelta(hours=1),
            resolution="5m",
            cluster_id=2,
        )
        critical = [a.id for a in kn.alerts.list(severity="critical")]
        acked = kn.alerts.acknowledge(1)
        open_anomalies = [a.id for a in kn.sre.list_anomalies(resolved=False)]
        sure = [r.id for r in kn.sre.list_recommendations(min_confidence=0.8)]
        feedback = kn.sre.recommendation_feedback(1, helpful=True, comment="did it")
        problem = kn.sre.get_problem(1)
        with pytest.raises(BadRequestError):
            kn.metrics.timeseries(
                "cpu_usage",
                start_time=start,
                end_time=start + dt.timedelta(days=30),
                resolution="1m",
            )
    assert metrics[0].cluster_id == 2
    assert len(series.points) == 13
    assert critical == [2]
    assert acked.status == "acknowledged"
    assert acked.acknowledged_at is not None
    assert open_anomalies == [1, 2]
    assert sure == [1, 2]
    assert feedback["feedback"][-1]["helpful"] is True
    assert problem.anomaly_ids == [1]


@pytest.fixture
def receiver() -> Iterator[tuple[LocalServer, list[tuple[bytes, dict[str, str]]]]]:
    received: list[tuple[bytes, dict[str, str]]] = []

    async def hook(request: Request) -> Response:
        received.append((await request.body(), dict(request.headers)))
        return Response(status_code=204)

    server = LocalServer(Starlette(routes=[Route("/hook", hook, methods=["POST"])]))
    server.start()
    yield server, received
    server.stop()


def _wait_for(received: list[Any], count: int) -> None:
    deadline = time.monotonic() + 10
    while len(received) < count and time.monotonic() < deadline:
        time.sleep(0.02)


def test_webhooks_are_delivered_signed_to_registered_urls(
    gateway_server: LocalGateway, receiver: tuple[LocalServer, list[tuple[bytes, dict[str, str]]]]
) -> None:
    server, received = receiver
    secret = "kit-webhook-secret"
    with client(gateway_server) as kn:
        hook = kn.webhooks.create(
            url=f"{server.url}/hook", events=["cluster.created", "alert.triggered"], secret=secret
        )
        made = kn.clusters.create(name="kit-hooked", cluster_type="gke", cloud_provider_id=3)
        _wait_for(received, 1)
        for alert in kn.alerts.list(cluster_id=5, status="open"):
            kn.alerts.acknowledge(alert.id)
        kn.clusters.health_check(5)  # prod-05 has nodes not ready: a new alert, delivered
        _wait_for(received, 2)
        seen = kn.webhooks.get(hook.id)
        kn.webhooks.delete(hook.id)
        kn.clusters.delete(made.id)
    events = []
    for body, headers in received:
        assert webhooks.verify_signature(body, headers["x-kubenexus-signature"], secret)
        assert not webhooks.verify_signature(body, headers["x-kubenexus-signature"], "other")
        events.append(webhooks.parse_event(body))
    assert [e.event for e in events] == ["cluster.created", "alert.triggered"]
    assert isinstance(events[0], webhooks.ClusterCreatedEvent)
    assert isinstance(events[1], webhooks.AlertTriggeredEvent)
    assert seen.model_extra is None or len(seen.model_extra.get("deliveries", [])) == 2


async def test_the_async_client_against_the_emulator(
    async_kubenexus_client: AsyncKubeNexusClient, gateway_server: LocalGateway
) -> None:
    root = gateway_server.emulator_url("kubenexus")
    transport = AsyncChecked(load("kubenexus.openapi.yaml"), prefixed(root, DOCUMENTED))
    async with AsyncKubeNexusClient(
        root, api_key="kn-admin-api-key", http_client=httpx.AsyncClient(transport=transport)
    ) as kn:
        names = [c.name async for c in kn.clusters.list(provider="gcp")]
    assert names == ["prod-03", "prod-06"]
    assert (await async_kubenexus_client.users.me()).username == "admin"
