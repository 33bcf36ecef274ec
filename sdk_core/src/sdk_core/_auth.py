"""Credentials on requests: tokens and how to get them (I/O-free providers), and
static keys. The token manager with single-flight refresh is :class:`TokenAuth`
(``_token_auth``)."""

from __future__ import annotations

import base64
from collections.abc import Generator, Mapping
from typing import Any, Protocol

import attrs
import httpx

from ._exceptions import SDKError, make_status_error
from ._logging import get_logger
from ._secrets import Secret, redact_url

__all__ = [
    "ClientCredentials",
    "PasswordLogin",
    "StaticAuth",
    "Token",
    "TokenFlow",
    "TokenProvider",
    "parse_token_response",
    "token_request_error",
]

log = get_logger("sdk_core")

TokenFlow = Generator[httpx.Request, httpx.Response, "Token"]


@attrs.frozen(repr=False)
class Token:
    access_token: Secret
    expires_at: float | None = None
    """On the auth's monotonic clock; ``None`` for a token that does not expire."""
    refresh_token: Secret | None = None
    token_type: str = "Bearer"  # noqa: S105 - a scheme name, not a secret
    info: Mapping[str, Any] = attrs.field(factory=dict, eq=False)
    """The rest of the token answer, secrets left out (a login's ``user``...)."""

    def is_expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def needs_refresh(self, now: float, margin: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at - margin

    def __repr__(self) -> str:
        return f"Token(access_token=Secret('**********'), expires_at={self.expires_at!r})"


class TokenProvider(Protocol):
    """How to get a token; I/O-free. ``token_flow`` yields the requests to send
    and receives their (read) responses; it returns the new token or raises."""

    def token_flow(self, current: Token | None, now: float) -> TokenFlow: ...


def token_request_error(response: httpx.Response, now: float) -> SDKError:
    """The typed error of a refused token request, saying that it was one."""
    return make_status_error(
        response, now=now, context=f"token request to {redact_url(response.request.url)}"
    )


def parse_token_response(response: httpx.Response, now: float) -> Token:
    """An OAuth2-shaped token answer: ``access_token``, ``expires_in``, ``refresh_token``."""
    if response.is_error:
        raise token_request_error(response, now)
    try:
        data = response.json()
        if "access_token" not in data and isinstance(data.get("data"), dict):
            data = data["data"]  # a {status, data} envelope
        access = data["access_token"]
    except (ValueError, KeyError, TypeError):
        raise SDKError("token endpoint answered without an access_token") from None
    expires_in = data.get("expires_in")
    refresh = data.get("refresh_token")
    return Token(
        access_token=Secret(str(access)),
        expires_at=now + float(expires_in) if expires_in is not None else None,
        refresh_token=Secret(str(refresh)) if refresh else None,
        token_type=str(data.get("token_type") or "Bearer"),
        info={k: v for k, v in data.items() if k not in _SECRET_FIELDS},
    )


_SECRET_FIELDS = frozenset({"access_token", "refresh_token", "id_token"})


@attrs.frozen(repr=False)
class ClientCredentials:
    """OAuth2 client credentials (RFC 6749 §4.4), client authenticated by HTTP Basic
    (``auth_method="basic"``, the default) or in the form body (``"post"``)."""

    token_url: str
    client_id: str
    client_secret: Secret = attrs.field(converter=Secret)
    scope: str | None = None
    auth_method: str = "basic"

    def token_flow(self, current: Token | None, now: float) -> TokenFlow:
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        headers = {"Accept": "application/json"}
        if self.auth_method == "basic":
            raw = f"{self.client_id}:{self.client_secret.reveal()}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        else:
            form["client_id"] = self.client_id
            form["client_secret"] = self.client_secret.reveal()
        response = yield httpx.Request("POST", self.token_url, data=form, headers=headers)
        return parse_token_response(response, now)

    def __repr__(self) -> str:
        return (
            f"ClientCredentials(token_url={self.token_url!r}, client_id={self.client_id!r}, "
            f"client_secret=Secret('**********'), scope={self.scope!r})"
        )


@attrs.frozen(repr=False)
class PasswordLogin:
    """Username/password login returning an access and a refresh token.

    Refreshes with the refresh token; when the server refuses it (400, 401,
    403), logs in again with the password.
    """

    login_url: str
    refresh_url: str
    username: str
    password: Secret = attrs.field(converter=Secret)
    extra_login_fields: Mapping[str, Any] = attrs.field(factory=dict)

    def token_flow(self, current: Token | None, now: float) -> TokenFlow:
        if current is not None and current.refresh_token is not None:
            body = {"refresh_token": current.refresh_token.reveal()}
            response = yield httpx.Request("POST", self.refresh_url, json=body)
            if response.is_success:
                token = parse_token_response(response, now)
                if token.refresh_token is None:
                    token = attrs.evolve(token, refresh_token=current.refresh_token)
                # A refresh answer may leave out what the login said (its user).
                return attrs.evolve(token, info={**current.info, **token.info})
            if response.status_code not in (400, 401, 403):
                raise token_request_error(response, now)
            log.debug("refresh token refused (%s); logging in again", response.status_code)
        body = {
            **self.extra_login_fields,
            "username": self.username,
            "password": self.password.reveal(),
        }
        response = yield httpx.Request("POST", self.login_url, json=body)
        return parse_token_response(response, now)

    def __repr__(self) -> str:
        return (
            f"PasswordLogin(login_url={self.login_url!r}, username={self.username!r}, "
            "password=Secret('**********'))"
        )


class StaticAuth(httpx.Auth):
    """A fixed credential in a header: a bearer token or an API key.

    ``StaticAuth("abc")`` sends ``Authorization: Bearer abc``;
    ``StaticAuth("abc", header="X-API-Key", scheme=None)`` sends ``X-API-Key: abc``.
    """

    def __init__(
        self, value: str | Secret, *, header: str = "Authorization", scheme: str | None = "Bearer"
    ) -> None:
        self.value = Secret(value) if not isinstance(value, Secret) else value
        self.header = header
        self.scheme = scheme

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raw = self.value.reveal()
        request.headers[self.header] = f"{self.scheme} {raw}" if self.scheme else raw
        yield request

    def __repr__(self) -> str:
        return f"StaticAuth(header={self.header!r}, value=Secret('**********'))"
