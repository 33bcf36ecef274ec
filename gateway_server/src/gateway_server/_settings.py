"""Server settings, each reachable three ways with one precedence: a
``gateway-server`` flag, then a ``GATEWAY_*`` environment variable, then the
default (one that works on a laptop: SQLite under ./gateway-data and an
HS256 secret generated there).

pydantic-settings reads the environment (``GATEWAY_MAX_CLAIMS=8``); the CLI
builds one flag per field from this class (``--max-claims 8``) and passes
what was given as keyword arguments, which win over the environment. The
field descriptions are the flags' help and the table in docs/gateway.md.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["EMULATORS", "Settings"]

Positive = Annotated[int, Field(gt=0)]

EMULATORS = ("nexthink", "kubenexus", "exasperation")
"""The vendor emulators the server can mount, each under ``/emulators/<name>``."""


class Settings(BaseSettings):
    """Every setting of the server (``Settings(max_claims=8)`` in Python)."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", frozen=True, extra="forbid")

    host: str = Field(default="127.0.0.1", description="the address to listen on")
    port: int = Field(default=8080, ge=0, le=65535, description="the HTTP port")
    log_level: str = Field(
        default="info",
        pattern="^(critical|error|warning|info|debug|trace)$",
        description="the server's log level",
    )
    forwarded_allow_ips: str | None = Field(
        default=None,
        description="proxies whose X-Forwarded-For/-Proto are believed, comma-separated "
        "addresses or networks, '*' for any (default: none, the peer is the client)",
    )
    data_dir: Path = Field(
        default=Path("gateway-data"),
        description="where the SQLite file and the generated JWT secret live",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL, e.g. postgresql+asyncpg://host/db "
        "(default: SQLite in the data directory)",
    )
    jwt_secret: str | None = Field(
        default=None,
        repr=False,
        description="HS256 secret for customer JWTs, 32 bytes or more "
        "(default: generated once in the data directory)",
    )
    jwt_jwks: str | None = Field(
        default=None, description="a JWKS file path or URL for RS256/ES256 customer JWTs"
    )
    jwt_jwks_timeout: float = Field(
        default=5.0,
        gt=0,
        description="seconds a fetch of the JWKS URL may take; a token waiting for it "
        "is then refused (cached keys keep being served)",
    )
    jwt_audience: str | None = Field(
        default="gateway", description="the 'aud' customer JWTs must carry"
    )
    jwt_customer_claim: str = Field(
        default="sub", description="the JWT claim that names the customer"
    )
    environment: str = Field(
        default="development", description="shown by /api/v1/customer/system/info"
    )
    device_token_ttl: Positive = Field(
        default=3600, description="seconds a device session token lives"
    )
    session_ttl: Positive = Field(default=3600, description="seconds a customer session lives")
    activation_ttl: Positive = Field(
        default=24 * 3600, description="seconds an activation code lives"
    )
    heartbeat_interval_ms: Positive = Field(
        default=30_000, description="the heartbeat interval told to devices; 3 missed = offline"
    )
    default_visibility_ms: int = Field(
        default=300_000,
        ge=1000,
        le=43_200_000,
        description="how long a claim lasts when the claim body names no visibilityTimeout",
    )
    max_claims: Positive = Field(
        default=5, description="claims without a result before a command is dead-lettered"
    )
    device_rate_per_minute: Positive = Field(
        default=100, description="requests a minute per device"
    )
    customer_rate_per_minute: Positive = Field(
        default=1000, description="requests a minute per customer"
    )
    auth_attempts_per_minute: Positive = Field(
        default=10,
        description="failed register/auth attempts a minute per device id and client address "
        "(30 times as many per address)",
    )
    ws_messages_per_second: Positive = Field(
        default=10, description="messages a second a client may send on one WebSocket"
    )
    ws_implementation: Literal["lean", "websockets-sansio", "websockets"] = Field(
        default="lean",
        description="the WebSocket implementation (lean: uvicorn's websockets-sansio holding "
        "about 6 KB less per idle socket; websockets-sansio: uvicorn's as it is; websockets: "
        "uvicorn's deprecated one)",
    )
    ws_per_message_deflate: bool = Field(
        default=False,
        description="offer per-message compression on WebSockets (off: it costs about 100 KB "
        "of server memory per socket to shrink messages of a few hundred bytes)",
    )
    ws_ping_interval: float = Field(
        default=20.0, gt=0, description="seconds between the server's pings on each WebSocket"
    )
    ws_ping_timeout: float = Field(
        default=20.0,
        gt=0,
        description="seconds a WebSocket peer has to answer a ping before it is dropped as dead",
    )
    ws_send_queue: Positive = Field(
        default=1000,
        description="events waiting to be sent on one WebSocket; a socket further behind is "
        "closed with 1013 and counted",
    )
    max_body_bytes: Positive = Field(
        default=1_048_576,
        description="the largest request body accepted, and the largest WebSocket message",
    )
    max_sockets_per_device: Positive = Field(
        default=5, description="WebSockets one device may hold open at once"
    )
    max_sockets_per_customer: Positive = Field(
        default=100, description="WebSockets one customer may hold open at once"
    )
    header_timeout: float = Field(
        default=10.0, gt=0, description="seconds a client has to send a request's headers"
    )
    body_timeout: float = Field(
        default=30.0, gt=0, description="seconds a client has to send a request's body"
    )
    drain_seconds: float = Field(
        default=30.0, ge=0, description="on SIGTERM, seconds given to requests in flight"
    )
    sqlite_synchronous: str = Field(
        default="NORMAL",
        pattern="^(OFF|NORMAL|FULL|EXTRA)$",
        description="SQLite's synchronous pragma (NORMAL: durable across a process crash)",
    )
    database_pool_size: Positive = Field(
        default=10,
        description="connections each server process keeps open to PostgreSQL (not SQLite)",
    )
    database_max_overflow: int = Field(
        default=10,
        ge=0,
        description="connections a process may open beyond the pool under load, closed after",
    )
    workers: Positive = Field(
        default=1,
        description="server processes sharing the port (serve); more than 1 needs PostgreSQL",
    )
    redis_url: str | None = Field(
        default=None,
        repr=False,  # it may carry a password
        pattern="^(redis|rediss|unix)://",
        description="Redis shared by several server processes, e.g. redis://host:6379/0: "
        "live events, rate limits and token revocations reach every process "
        "(needs the redis extra; default: none, each process on its own)",
    )
    redis_prefix: str = Field(
        default="gateway:",
        min_length=1,
        max_length=64,
        description="the prefix of every Redis key and channel of this deployment",
    )

    emulate: str | None = Field(
        default=None,
        description="vendor emulators to mount under /emulators/<name>: a comma list of "
        "nexthink, kubenexus, exasperation, or all (default: none)",
    )
    emulator_data: str | None = Field(
        default=None,
        description="a JSON file of seed data replacing the emulators' packaged one",
    )
    nexthink_export_seconds: float = Field(
        default=3.0,
        ge=0,
        le=86_400,
        description="seconds an emulated Nexthink export takes from SUBMITTED to COMPLETED",
    )
    nexthink_rate_per_minute: Positive = Field(
        default=600, description="requests a minute per client the Nexthink emulator allows"
    )

    @field_validator("emulate")
    @classmethod
    def _known_emulators(cls, value: str | None) -> str | None:
        return ",".join(emulator_names(value)) if value else None

    @property
    def emulators(self) -> tuple[str, ...]:
        """The emulators to mount, in a fixed order."""
        return emulator_names(self.emulate or "")

    # -- the compliance platform (contracts/compliance.openapi.yaml) ------------------------
    compliance_session_ttl: Positive = Field(
        default=8 * 3600, description="seconds a compliance user's session lives"
    )
    compliance_login_failures_per_minute: Positive = Field(
        default=5,
        description="failed compliance logins a minute per username and client address "
        "(thirty times as many per address)",
    )
    compliance_enrollment_failures_per_minute: Positive = Field(
        default=10,
        description="refused agent enrollments (bad tokens) a minute per client address; "
        "past it every enrollment from that address is refused until the minute is over",
    )
    compliance_password_memory_kib: int = Field(
        default=19_456,
        ge=8,
        description="argon2id memory per password hash, KiB (OWASP's 19 MiB by default)",
    )
    compliance_password_time_cost: Positive = Field(
        default=2, description="argon2id passes per password hash"
    )
    compliance_token_key: str | None = Field(
        default=None,
        repr=False,
        description="base64url AES-256 key that encrypts provider tokens at rest "
        "(default: generated once in the data directory)",
    )
    compliance_public_url: str = Field(
        default="http://127.0.0.1:8080",
        description="the server's public URL, for the OAuth redirect URI",
    )
    compliance_check_interval: Positive = Field(
        default=300,
        description="seconds between an agent's checks; 3 missed heartbeats = offline",
    )
    learning_min_successes: Positive = Field(
        default=3,
        description="successful resolutions of one issue by the same steps before they "
        "are proposed as a runbook",
    )
    oauth_state_ttl: Positive = Field(
        default=600, description="seconds an OAuth authorization request (its state) lives"
    )
    oauth_timeout: float = Field(
        default=10.0, gt=0, description="seconds to wait for a provider's token endpoint"
    )
    google_client_id: str | None = Field(
        default=None, description="Google Workspace OAuth client id"
    )
    google_client_secret: str | None = Field(
        default=None, repr=False, description="Google Workspace OAuth client secret"
    )
    google_authorize_url: str = Field(
        default="https://accounts.google.com/o/oauth2/v2/auth",
        description="Google's authorization endpoint",
    )
    google_token_url: str = Field(
        default="https://oauth2.googleapis.com/token", description="Google's token endpoint"
    )
    azure_client_id: str | None = Field(
        default=None, description="Azure AD / Entra OAuth client id"
    )
    azure_client_secret: str | None = Field(
        default=None, repr=False, description="Azure AD / Entra OAuth client secret"
    )
    azure_authority: str = Field(
        default="https://login.microsoftonline.com",
        description="Entra's authority; {authority}/{tenant}/oauth2/v2.0/authorize and /token",
    )
    okta_client_id: str | None = Field(default=None, description="Okta OAuth client id")
    okta_client_secret: str | None = Field(
        default=None, repr=False, description="Okta OAuth client secret"
    )
    okta_base_url: str = Field(
        default="https://{domain}",
        description="the Okta org's URL, {domain} the site's okta_domain; "
        "{base}/oauth2/v1/authorize and /token",
    )
    aws_principal_arn: str | None = Field(
        default=None, description="the platform's AWS principal that customers' roles trust"
    )
    escalation_webhook_url: str | None = Field(
        default=None, description="where L3 escalations are POSTed (none: not delivered)"
    )
    escalation_max_attempts: Positive = Field(
        default=8, description="delivery attempts of an escalation before it is failed"
    )
    escalation_backoff_seconds: float = Field(
        default=2.0, gt=0, description="the first retry's delay; doubled each retry, up to an hour"
    )
    escalation_timeout: float = Field(
        default=10.0, gt=0, description="seconds to wait for the webhook's answer"
    )
    grpc_enabled: bool = Field(
        default=True,
        description="serve the compliance agent channel: the gRPC enrollment and agent "
        "(mTLS) listeners, on the --host address (--no-grpc-enabled: HTTP alone)",
    )
    grpc_agent_port: int = Field(
        default=50051,
        ge=0,
        le=65535,
        description="the agent (mTLS) gRPC listener's port; 0 picks a free one",
    )
    grpc_enrollment_port: int = Field(
        default=50052,
        ge=0,
        le=65535,
        description="the enrollment (TLS, Register with a token) gRPC listener's port; "
        "0 picks a free one",
    )
    grpc_agent_address: str | None = Field(
        default=None,
        description="host:port agents reconnect to after enrolling, also a name in the "
        "listeners' certificate (default: --host and the agent port)",
    )

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'gateway.db').resolve()}"

    def with_generated_secret(self) -> Settings:
        """A copy with an HS256 secret kept in the data directory (made once)."""
        if self.jwt_secret or self.jwt_jwks:
            return self
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # ours alone
        path = self.data_dir / "jwt-secret"
        if not path.exists():  # made 0600, never readable by others even for a moment
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
                f.write(secrets.token_urlsafe(48))
        return self.model_copy(update={"jwt_secret": path.read_text().strip()})


def emulator_names(value: str) -> tuple[str, ...]:
    """``"nexthink,kubenexus"`` or ``"all"`` as emulator names, in a fixed order."""
    names = {part.strip().lower() for part in value.split(",") if part.strip()}
    if "all" in names:
        return EMULATORS
    unknown = sorted(names - set(EMULATORS))
    if unknown:
        choices = ", ".join((*EMULATORS, "all"))
        raise ValueError(f"unknown emulator {', '.join(unknown)} (choose from {choices})")
    return tuple(name for name in EMULATORS if name in names)
