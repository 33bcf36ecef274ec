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

import secrets
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]

Positive = Annotated[int, Field(gt=0)]


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
        default=10, description="register/auth attempts a minute per device id"
    )
    ws_messages_per_second: Positive = Field(
        default=10, description="messages a second a client may send on one WebSocket"
    )
    ws_implementation: Literal["websockets-sansio", "websockets"] = Field(
        default="websockets-sansio",
        description="uvicorn's WebSocket implementation (websockets-sansio: the lean one "
        "uvicorn recommends; websockets: the deprecated one)",
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
        default=1_048_576, description="the largest request body accepted"
    )
    drain_seconds: float = Field(
        default=30.0, ge=0, description="on SIGTERM, seconds given to requests in flight"
    )
    sqlite_synchronous: str = Field(
        default="NORMAL",
        pattern="^(OFF|NORMAL|FULL|EXTRA)$",
        description="SQLite's synchronous pragma (NORMAL: durable across a process crash)",
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
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / "jwt-secret"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return self.model_copy(update={"jwt_secret": path.read_text().strip()})
