"""Clusters, users, roles, metrics, alerts, SRE and webhooks: envelopes unwrapped, pages iterated."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
import pytest
import respx

from kubenexus_sdk import (
    Cluster,
    ConflictError,
    ErrorCode,
    InputValidationError,
    KubeNexusClient,
    NotFoundError,
    UnprocessableEntityError,
)
from tests.kubenexus_sdk.conftest import make_async_client
from tests.kubenexus_sdk.fake_kubenexus import FakeKubeNexus
from tests.support import FakeClock


def api_requests(platform: FakeKubeNexus, path: str) -> list[httpx.Request]:
    return [r for r in platform.requests if r.url.path == path]


# -- pagination --------------------------------------------------------------------
def test_auto_pagination_over_3_pages_with_the_right_parameters(
    client: KubeNexusClient, platform: FakeKubeNexus
) -> None:
    clusters = list(
        client.clusters.list(status="active", provider="aws", sort="name", order="desc", limit=20)
    )
    assert len(clusters) == 45
    assert all(isinstance(c, Cluster) for c in clusters)
    assert clusters[0].name == "cluster-044"
    sent = [dict(r.url.params) for r in api_requests(platform, "/api/clusters")]
    assert sent == [
        {
            "status": "active",
            "provider": "aws",
            "sort": "name",
            "order": "desc",
            "limit": "20",
            "page": str(p),
        }
        for p in (1, 2, 3)
    ]


def test_pages_are_fetched_one_at_a_time(client: KubeNexusClient, platform: FakeKubeNexus) -> None:
    pages = client.clusters.list(limit=20).pages()
    first = next(pages)
    assert len(first.items) == 20
    assert first.total == 45
    assert first.total_pages == 3
    assert len(api_requests(platform, "/api/clusters")) == 1
    assert [len(p.items) for p in pages] == [20, 5]


def test_filters_narrow_the_list(client: KubeNexusClient) -> None:
    assert [c.name for c in client.clusters.list(search="cluster-04")] == [
        f"cluster-04{i}" for i in range(5)
    ]
    assert list(client.clusters.list(provider="gcp")) == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"order": "up"}, "order"),
        ({"page": 0}, "page"),
    ],
)
def test_list_parameters_checked(
    client: KubeNexusClient, platform: FakeKubeNexus, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(InputValidationError) as info:
        client.clusters.list(**kwargs)
    assert info.value.field == field
    assert api_requests(platform, "/api/clusters") == []


async def test_async_pagination(
    routes: respx.Router, platform: FakeKubeNexus, clock: FakeClock
) -> None:
    async with make_async_client(clock) as client:
        names = [c.name async for c in client.clusters.list(limit=20)]
        sizes = [len(p.items) async for p in client.clusters.list(limit=20).pages()]
    assert len(names) == 45
    assert sizes == [20, 20, 5]


# -- clusters ------------------------------------------------------------------------
def test_cluster_crud(client: KubeNexusClient, platform: FakeKubeNexus) -> None:
    created = client.clusters.create(
        name="prod-eks",
        cluster_type="eks",
        cloud_provider_id=7,
        region="eu-west-1",
        tags={"env": "prod"},
    )
    assert created.provider == "aws"
    assert json.loads(platform.requests[-1].content) == {
        "name": "prod-eks",
        "cluster_type": "eks",
        "region": "eu-west-1",
        "cloud_provider_id": 7,
        "tags": {"env": "prod"},
    }
    on_prem = client.clusters.create(
        name="lab", cluster_type="on_premise", kubeconfig="apiVersion: v1\n"
    )
    assert on_prem.cluster_type == "on_premise"
    assert client.clusters.get(created.id).name == "prod-eks"
    replaced = client.clusters.update(
        created.id, name="prod-eks-2", cluster_type="eks", cloud_provider_id=8
    )
    assert replaced.name == "prod-eks-2"
    assert platform.requests[-1].method == "PUT"
    patched = client.clusters.patch(created.id, description="primary", tags={"tier": "1"})
    assert patched.description == "primary"
    assert json.loads(platform.requests[-1].content) == {
        "description": "primary",
        "tags": {"tier": "1"},
    }
    health = client.clusters.health_check(created.id)
    assert health.healthy
    assert health.warnings == ["node-2 disk 81%"]
    assert client.clusters.kubeconfig(created.id).startswith("apiVersion: v1")
    client.clusters.delete(created.id)
    with pytest.raises(NotFoundError) as info:
        client.clusters.get(created.id)
    assert info.value.code == ErrorCode.CLUSTER_NOT_FOUND


@pytest.mark.parametrize("cluster_type", ["eks", "gke", "aks"])
def test_cloud_cluster_without_cloud_provider_id_refused_before_any_request(
    client: KubeNexusClient, platform: FakeKubeNexus, cluster_type: str
) -> None:
    with pytest.raises(InputValidationError) as info:
        client.clusters.create(name="prod", cluster_type=cluster_type)  # type: ignore[arg-type]
    assert info.value.field == "cloud_provider_id"
    assert f"is required for cluster_type '{cluster_type}'" in str(info.value)
    assert platform.requests == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "lab", "cluster_type": "on_premise"}, "kubeconfig"),
        ({"name": "", "cluster_type": "eks", "cloud_provider_id": 1}, "name"),
        ({"name": "x", "cluster_type": "k3s", "cloud_provider_id": 1}, "cluster_type"),
        ({"name": "x", "cluster_type": "eks", "cloud_provider_id": 1, "tags": {"n": 1}}, "tags.n"),
    ],
)
def test_cluster_create_checks(
    client: KubeNexusClient, platform: FakeKubeNexus, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(InputValidationError) as info:
        client.clusters.create(**kwargs)
    assert info.value.field == field
    assert platform.requests == []


def test_patch_checks(client: KubeNexusClient, platform: FakeKubeNexus) -> None:
    with pytest.raises(InputValidationError, match="cluster_type"):
        client.clusters.patch(1, cluster_type="gke")  # type: ignore[call-arg]  # mypy refuses it too
    with pytest.raises(InputValidationError, match="colour"):
        client.clusters.patch(1, colour="red")  # type: ignore[call-arg]  # mypy refuses it too
    with pytest.raises(InputValidationError, match="at least one"):
        client.clusters.patch(1)
    with pytest.raises(InputValidationError, match="cluster_id"):
        client.clusters.get("../users")
    assert platform.requests == []


def test_duplicate_name_is_a_conflict_error(
    client: KubeNexusClient, platform: FakeKubeNexus
) -> None:
    with pytest.raises(ConflictError) as conflict:
        client.clusters.create(name="cluster-001", cluster_type="eks", cloud_provider_id=1)
    assert conflict.value.status_code == 409
    assert conflict.value.code == "CONFLICT"
    assert len(platform.clusters) == 45


def test_422_field_errors(client: KubeNexusClient, platform: FakeKubeNexus) -> None:
    from tests.kubenexus_sdk.fake_kubenexus import fail

    platform.forced.append(
        fail(422, "VALIDATION_ERROR", "Validation failed", {"fields": {"email": "already used"}})
    )
    with pytest.raises(UnprocessableEntityError) as info:
        client.users.create(username="bob", email="bob@example.com", password="long-enough-pw")
    assert info.value.code == ErrorCode.VALIDATION_ERROR
    assert info.value.field_errors == {"email": ["already used"]}


def test_rate_limit_headers_on_every_response(client: KubeNexusClient) -> None:
    raw = client.with_raw_response.clusters.get(1)
    assert raw.rate_limit.limit == 1000
    assert raw.rate_limit.remaining is not None
    assert raw.rate_limit.reset_after == pytest.approx(3600)
    assert raw.parse().id == 1


def test_429_is_retried_then_raises_rate_limit_exceeded(
    client: KubeNexusClient, platform: FakeKubeNexus, clock: FakeClock
) -> None:
    from kubenexus_sdk import RateLimitError
    from tests.kubenexus_sdk.fake_kubenexus import fail

    client.clusters.get(1)
    for _ in range(4):
        response = fail(429, "RATE_LIMIT_EXCEEDED", "Too many requests")
        response.headers["Retry-After"] = "2"
        platform.forced.append(response)
    with pytest.raises(RateLimitError) as info:
        client.clusters.get(1)
    assert info.value.code == ErrorCode.RATE_LIMIT_EXCEEDED
    assert clock.sleeps == [2.0, 2.0, 2.0]


# -- users and roles --------------------------------------------------------------------
def test_users(client: KubeNexusClient, platform: FakeKubeNexus) -> None:
    me = client.users.me()
    assert me.username == "ada"
    assert client.users.update_me(first_name="Augusta").first_name == "Augusta"
    bob = client.users.create(
        username="bob", email="bob@example.com", password="long-enough-pw", roles=["viewer"]
    )
    assert "password" not in bob.model_extra  # type: ignore[operator]
    assert [u.username for u in client.users.list()] == ["ada", "bob"]
    assert (
        client.users.update(bob.id, username="bob", email="bob@corp.example.com").email
        == "bob@corp.example.com"
    )
    client.users.delete(bob.id)
    with pytest.raises(NotFoundError):
        client.users.get(bob.id)
    with pytest.raises(InputValidationError, match="email"):
        client.users.create(username="eve", email="not-an-email", password="long-enough-pw")
    with pytest.raises(InputValidationError, match="password"):
        client.users.create(username="eve", email="eve@example.com", password="short")
    with pytest.raises(InputValidationError, match="status"):
        client.users.list(status="gone")  # type: ignore[arg-type]


def test_roles_and_permissions(client: KubeNexusClient) -> None:
    assert [r.name for r in client.roles.list()] == ["admin", "viewer"]
    assert client.roles.permissions() == [
        "cloud_provider:read",
        "cluster:create",
        "cluster:delete",
        "cluster:read",
        "cluster:update",
        "user:create",
        "user:read",
    ]


# -- metrics, alerts, SRE ----------------------------------------------------------------
def test_metrics(client: KubeNexusClient, platform: FakeKubeNexus) -> None:
    assert client.metrics.clusters()[0].cpu_usage == 0.42
    series = client.metrics.timeseries(
        "cpu_usage",
        start_time=dt.datetime(2024, 6, 1, 10, 0),
        end_time=dt.datetime(2024, 6, 1, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        resolution="5m",
        cluster_id=1,
    )
    assert dict(platform.requests[-1].url.params) == {
        "metric_name": "cpu_usage",
        "start_time": "2024-06-01T10:00:00Z",
        "end_time": "2024-06-01T12:00:00Z",
        "resolution": "5m",
        "cluster_id": "1",
    }
    assert len(series.points) == 2
    with pytest.raises(InputValidationError, match="resolution"):
        client.metrics.timeseries(
            "cpu",
            start_time=dt.datetime(2024, 1, 1),
            end_time=dt.datetime(2024, 1, 2),
            resolution="2m",  # type: ignore[arg-type]
        )
    with pytest.raises(InputValidationError, match="start_time"):
        client.metrics.timeseries(
            "cpu", start_time=dt.datetime(2024, 1, 2), end_time=dt.datetime(2024, 1, 1)
        )


def test_alerts_and_sre(client: KubeNexusClient, platform: FakeKubeNexus) -> None:
    high = list(client.alerts.list(severity="high"))
    assert [a.id for a in high] == [1, 3, 5]
    assert client.alerts.acknowledge(1).status == "acknowledged"
    anomalies = list(client.sre.list_anomalies(cluster_id=1, severity="critical", resolved=False))
    assert anomalies[0].metric_name == "cpu"
    assert platform.requests[-1].url.params["resolved"] == "false"
    assert client.sre.get_anomaly(1).severity == "critical"
    client.sre.acknowledge_anomaly(1)
    recs = list(client.sre.list_recommendations(min_confidence=0.8, category="cost"))
    assert recs[0].confidence == 0.91
    assert client.sre.recommendation_feedback(9, helpful=True, applied=True, comment="saved 20%")[
        "recorded"
    ]
    assert json.loads(platform.requests[-1].content) == {
        "helpful": True,
        "applied": True,
        "comment": "saved 20%",
    }
    assert next(iter(client.sre.list_problems())).anomaly_ids == [1]
    assert client.sre.get_problem(3).title == "Pods crash-looping"
    with pytest.raises(InputValidationError, match="min_confidence"):
        client.sre.list_recommendations(min_confidence=1.5)
    with pytest.raises(InputValidationError, match="severity"):
        client.alerts.list(severity="urgent")  # type: ignore[arg-type]


# -- webhooks -------------------------------------------------------------------------
def test_webhook_crud(client: KubeNexusClient, platform: FakeKubeNexus) -> None:
    hook = client.webhooks.create(
        url="https://hooks.example.com/kn",
        events=["cluster.created", "alert.triggered"],
        secret="s3cret",
    )
    assert hook.events == ["cluster.created", "alert.triggered"]
    assert [h.id for h in client.webhooks.list()] == [hook.id]
    assert client.webhooks.update(
        hook.id, url="https://hooks.example.com/v2", events=["anomaly.detected"]
    ).url.endswith("/v2")
    assert client.webhooks.get(hook.id).events == ["anomaly.detected"]
    client.webhooks.delete(hook.id)
    with pytest.raises(NotFoundError):
        client.webhooks.get(hook.id)
    with pytest.raises(InputValidationError) as info:
        client.webhooks.create(url="https://x.example.com", events=["cluster.exploded"])  # type: ignore[list-item]
    assert info.value.field == "events[0]"
    with pytest.raises(InputValidationError, match="url"):
        client.webhooks.create(url="ftp://x", events=["cluster.created"])


async def test_async_resources(
    routes: respx.Router, platform: FakeKubeNexus, clock: FakeClock
) -> None:
    async with make_async_client(clock) as client:
        created = await client.clusters.create(
            name="a1", cluster_type="gke", cloud_provider_id="proj-1"
        )
        assert (await client.clusters.get(created.id)).provider == "gcp"
        assert (await client.clusters.patch(created.id, region="us-east1")).region == "us-east1"
        assert (await client.clusters.health_check(created.id)).healthy
        assert "apiVersion" in await client.clusters.kubeconfig(created.id)
        await client.clusters.delete(created.id)
        assert (await client.users.me()).username == "ada"
        assert "cluster:read" in await client.roles.permissions()
        assert (await client.metrics.clusters(1))[0].pod_count == 88
        assert [a.id async for a in client.alerts.list(severity="low")] == [2, 4]
        assert [p.id async for p in client.sre.list_problems()] == [3]
        hook = await client.webhooks.create(url="https://h.example.com", events=["cluster.deleted"])
        assert [h.id async for h in client.webhooks.list()] == [hook.id]
        with pytest.raises(InputValidationError):
            await client.clusters.create(name="b", cluster_type="aks")


def test_sync_and_async_surfaces_match(client: KubeNexusClient, clock: FakeClock) -> None:
    async_client = make_async_client(clock)
    for name in ("clusters", "users", "roles", "metrics", "alerts", "sre", "webhooks"):
        sync_names = {n for n in dir(type(getattr(client, name))) if not n.startswith("_")}
        async_names = {n for n in dir(type(getattr(async_client, name))) if not n.startswith("_")}
        assert sync_names == async_names, name
    assert {n for n in dir(type(client)) if not n.startswith("_")} == {
        n for n in dir(type(async_client)) if not n.startswith("_")
    }
