"""The request bodies KubeNexus takes, as the contract states them."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import Field, model_validator

from ...edge import Body

__all__ = [
    "ChangePassword",
    "ClusterPatch",
    "ClusterWrite",
    "Feedback",
    "Login",
    "Profile",
    "Refresh",
    "UserCreate",
    "UserUpdate",
    "WebhookWrite",
    "fields_of",
]

Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")]
Text = Annotated[str, Field(min_length=1)]
UserStatus = Literal["active", "inactive", "suspended"]
ClusterType = Literal["on_premise", "eks", "gke", "aks"]
Event = Literal[
    "cluster.created",
    "cluster.updated",
    "cluster.deleted",
    "alert.triggered",
    "anomaly.detected",
    "recommendation.created",
]


class Login(Body):
    username: Text
    password: Text
    remember_me: bool | None = None


class Refresh(Body):
    refresh_token: Text


class ChangePassword(Body):
    current_password: Text
    new_password: Annotated[str, Field(min_length=8)]


class UserCreate(Body):
    username: Text
    email: Email
    password: Annotated[str, Field(min_length=8)]
    first_name: str | None = None
    last_name: str | None = None
    roles: list[str] | None = None
    status: UserStatus | None = None


class UserUpdate(Body):
    username: Text
    email: Email
    first_name: str | None = None
    last_name: str | None = None
    roles: list[str] | None = None
    status: UserStatus | None = None


class Profile(Body):
    email: Email | None = None
    first_name: str | None = None
    last_name: str | None = None


class ClusterPatch(Body):
    name: Text | None = None
    description: str | None = None
    region: str | None = None
    kubeconfig: Text | None = None
    cloud_provider_id: str | int | None = None
    tags: dict[str, str] | None = None


class ClusterWrite(ClusterPatch):
    name: Text
    cluster_type: ClusterType

    @model_validator(mode="after")
    def _needs(self) -> Self:
        if self.cluster_type == "on_premise" and self.kubeconfig is None:
            raise ValueError("kubeconfig: is required for cluster_type 'on_premise'")
        if self.cluster_type != "on_premise" and self.cloud_provider_id is None:
            raise ValueError(
                f"cloud_provider_id: is required for cluster_type {self.cluster_type!r}"
            )
        return self


class Feedback(Body):
    helpful: bool
    applied: bool | None = None
    comment: str | None = None


class WebhookWrite(Body):
    url: Annotated[str, Field(pattern=r"^https?://")]
    events: Annotated[list[Event], Field(min_length=1)]
    secret: Text | None = None
    active: bool | None = None
    description: str | None = None


def fields_of(body: Body) -> dict[str, Any]:
    return body.model_dump(exclude_unset=True)
