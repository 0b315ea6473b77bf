"""OAuth 2.0 pieces shared by the grant flows: the token endpoint and the authorize URL."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from ..errors import AuthError, ResponseDecodeError, TransportError
from ..signing import Circuit
from .base import DEFAULT_CONNECT_URL, TokenSession

__all__ = ["TokenReply", "authorization_url", "join_scope", "new_state", "request_token"]

TOKEN_ENDPOINT = "oauth/token.do"


def join_scope(scope: str | Iterable[str]) -> str:
    """Scopes as OK.ru wants them: separated by ``;``."""
    if isinstance(scope, str):
        return scope
    return ";".join(scope)


def new_state() -> str:
    """A random ``state`` value for the authorize request (CSRF protection)."""
    return secrets.token_urlsafe(16)


def authorization_url(
    app_id: str | int,
    scope: str | Iterable[str],
    redirect_uri: str,
    *,
    response_type: str = "code",
    layout: str = "w",
    state: str | None = None,
    connect_url: str = DEFAULT_CONNECT_URL,
) -> str:
    """The URL to send the user's browser to for the code (or token) flow.

    Pass a ``state`` made with :func:`new_state` and compare it with the one
    the redirect brings back.
    """
    query = {
        "client_id": str(app_id),
        "scope": join_scope(scope),
        "response_type": response_type,
        "redirect_uri": redirect_uri,
        "layout": layout,
    }
    if state is not None:
        query["state"] = state
    return f"{connect_url.rstrip('/')}/oauth/authorize?{urlencode(query)}"


class TokenReply:
    """The useful part of a ``token.do`` reply."""

    __slots__ = ("access_token", "expires_in", "refresh_token", "session_secret_key")

    def __init__(self, payload: Mapping[str, Any]) -> None:
        self.access_token = str(payload.get("access_token") or "")
        self.refresh_token = str(payload.get("refresh_token") or "")
        self.session_secret_key = str(payload.get("session_secret_key") or "")
        self.expires_in = parse_expires_in(payload.get("expires_in"))

    def __repr__(self) -> str:
        return f"<TokenReply expires_in={self.expires_in}>"


def parse_expires_in(value: Any) -> float | None:
    """``expires_in`` arrives as a JSON string (``"1800"``) or a number."""
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


async def request_token(
    session: TokenSession, params: Mapping[str, str], *, grant: str
) -> TokenReply:
    """POST ``token.do`` for ``session`` and return the tokens, or raise :class:`AuthError`.

    ``client_secret`` is added when the session has an application secret key.
    """
    if session.app_secret_key:
        params = {**params, "client_secret": session.app_secret_key}
    transport, api_url = session._transport, session.api_url
    what = f"{TOKEN_ENDPOINT} ({grant})"
    reply = await transport.request("POST", f"{api_url}/{TOKEN_ENDPOINT}", what=what, data=params)
    try:
        payload = json.loads(reply.body)
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        if "error" in payload or "error_code" in payload:
            error = payload.get("error") or payload.get("error_code")
            text = payload.get("error_description") or payload.get("error_msg") or ""
            hint = "" if "client_secret" in params else _server_variant_hint(session)
            raise AuthError(f"{what} refused: {error}: {text}".rstrip(": ") + hint)
        token = TokenReply(payload)
        if token.access_token:
            return token
    if reply.status >= 400:
        raise TransportError(
            f"{what}: HTTP {reply.status} without an OAuth reply",
            method=what,
            status=reply.status,
            body=reply.body,
        )
    if payload is None:
        raise ResponseDecodeError(f"{what}: the reply is not JSON", method=what, body=reply.body)
    raise AuthError(f"{what}: the reply carries no access_token")


def adopt_token(session: TokenSession, token: TokenReply, *, grant: str) -> None:
    """Store what ``token.do`` returned on the session.

    A client-server session cannot sign without a session secret key; OK.ru
    returns one only to applications allowed to exchange without their secret.
    """
    if session.pinned_circuit is Circuit.CLIENT and not token.session_secret_key:
        raise AuthError(
            f"{TOKEN_ENDPOINT} ({grant}) returned no session_secret_key"
            + _server_variant_hint(session)
        )
    session._set_tokens(
        access_token=token.access_token,
        session_secret_key=token.session_secret_key,
        refresh_token=token.refresh_token,
        expires_in=token.expires_in,
    )


def _server_variant_hint(session: TokenSession) -> str:
    name = type(session).__name__
    if "Client" in name:
        return (
            f" (this application must use its secret key: use {name.replace('Client', 'Server')})"
        )
    return " (this application must use its secret key: give app_secret_key)"


async def refresh_access_token(session: TokenSession) -> None:
    """Replace the session's access token using its refresh token."""
    params = {
        "grant_type": "refresh_token",
        "refresh_token": session.refresh_token,
        "client_id": session.app_id,
    }
    token = await request_token(session, params, grant="refresh_token")
    adopt_token(session, token, grant="refresh_token")
