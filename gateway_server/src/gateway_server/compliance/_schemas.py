"""Request bodies of the compliance platform, exactly as
contracts/compliance.openapi.yaml states them: documented fields only, strict
types, constraints as ``Annotated`` types (``edge/_schemas.py`` has the shared ones)."""

from __future__ import annotations

from typing import Annotated, Literal, Self

import pydantic

from ..edge import Body, JsonInt, text

__all__ = [
    "UUID",
    "AwsRoleBody",
    "CandidatePromoteBody",
    "CandidateRejectBody",
    "EnrollmentTokenBody",
    "EscalationBody",
    "IncidentResolveBody",
    "LoginBody",
    "OAuthStartBody",
    "SiteCreateBody",
    "SiteUpdateBody",
]

UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_ROLE_ARN = r"^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$"
_TENANT = r"^[A-Za-z0-9][A-Za-z0-9.-]{0,253}$"
_OKTA_DOMAIN = r"^[a-z0-9][a-z0-9-]{0,62}(\.[a-z0-9][a-z0-9-]{0,62})+$"

Uuid = Annotated[str, text(pattern=UUID), pydantic.AfterValidator(str.lower)]
Name = Annotated[str, text(1, 255, pattern=r"\S")]
Note = Annotated[str, text(max_length=2000)]
Tier = Literal["monitor_only", "self_heal", "full_remediation"]
Severity = Literal["critical", "high", "medium", "low"]
Priority = Literal["low", "medium", "high", "critical"]


class LoginBody(Body):
    username: Annotated[str, text(1, 255)]
    password: Annotated[str, text(1, 1024)]


class SiteCreateBody(Body):
    name: Name
    partner_id: Uuid | None = None
    capability_tier: Tier = "monitor_only"


class SiteUpdateBody(Body):
    name: Name
    capability_tier: Tier | None = None


class EnrollmentTokenBody(Body):
    description: Annotated[str, text(max_length=255)] | None = None
    expires_in_seconds: Annotated[JsonInt, pydantic.Field(ge=300, le=2_592_000)] = 86_400
    max_uses: Annotated[JsonInt, pydantic.Field(ge=1, le=100_000)] | None = None


class IncidentResolveBody(Body):
    note: Note | None = None


class CandidatePromoteBody(Body):
    name: Name | None = None
    description: Note | None = None
    is_disruptive: bool = False
    severity: Severity | None = None


class CandidateRejectBody(Body):
    reason: Note | None = None


class OAuthStartBody(Body):
    """One of the contract's three shapes, by ``provider``: Entra takes an
    optional ``tenant_id``, Okta requires its ``okta_domain``, Google neither."""

    provider: Literal["google_workspace", "azure_ad", "okta"]
    tenant_id: Annotated[str, text(pattern=_TENANT)] | None = None
    okta_domain: Annotated[str, text(pattern=_OKTA_DOMAIN)] | None = None

    @pydantic.model_validator(mode="after")
    def _shape(self) -> Self:
        if self.tenant_id is not None and self.provider != "azure_ad":
            raise ValueError("tenant_id: only for azure_ad")
        if self.okta_domain is not None and self.provider != "okta":
            raise ValueError("okta_domain: only for okta")
        if self.provider == "okta" and self.okta_domain is None:
            raise ValueError("okta_domain: required for okta")
        return self

    @property
    def account(self) -> str | None:
        return self.tenant_id or self.okta_domain


class AwsRoleBody(Body):
    role_arn: Annotated[str, text(pattern=_ROLE_ARN)]


class EscalationBody(Body):
    site_id: Uuid
    incident_id: Uuid | None = None
    priority: Priority = "high"
    subject: Annotated[str, text(1, 200, pattern=r"\S")]
    message: Annotated[str, text(1, 10_000)]
