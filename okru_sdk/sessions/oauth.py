"""OAuth 2.0 pieces shared by the grant flows: the token endpoint and the authorize URL."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from .._json import loads
from ..errors import AuthError, ResponseDecodeError, TransportError, utf8_text
from ..redact import scrub, secret_values
from ..signing import Circuit
from .base import DEFAULT_CONNECT_URL, TokenSession

__all__ = [
    "TokenReply",
    "authorization_url",
    "code_from_redirect",
    "join_scope",
    "new_state",
    "request_token",
]

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

    Keep the ``state`` (make one with :func:`new_state`) and check the one the
    redirect brings back with :func:`code_from_redirect`. Without a ``state``
    a fresh one is put in the URL anyway (read it back with
    ``parse_qs(urlsplit(url).query)["state"]``), so no authorize request goes
    out without CSRF protection.
    """
    query = {
        "client_id": str(app_id),
        "scope": join_scope(scope),
        "response_type": response_type,
        "redirect_uri": redirect_uri,
        "layout": layout,
    }
    query["state"] = new_state() if state is None else state
    return f"{connect_url.rstrip('/')}/oauth/authorize?{urlencode(query)}"


def code_from_redirect(redirect_url: str, *, state: str) -> str:
    """The ``code`` of the OAuth redirect, after checking that it carries ``state``.

    ``redirect_url`` is the full URL OK.ru sent the browser back to (or just
    its query string). Raises :class:`~okru_sdk.AuthError` when the user
    refused (``error=``), the state is missing or differs (a forged or stale
    redirect), or no code came back.
    """
    query = urlsplit(redirect_url).query if "?" in redirect_url else redirect_url
    values = parse_qs(query.lstrip("?"), keep_blank_values=True)
    if "error" in values:
        raise AuthError(f"the authorization was refused: {values['error'][0]}")
    returned = values.get("state", [""])[0]
    if not state or not hmac.compare_digest(returned.encode(), state.encode()):
        raise AuthError(
            "the redirect's state does not match the one sent: refusing the code "
            "(a forged or stale redirect)"
        )
    code = values.get("code", [""])[0]
    if not code:
        raise AuthError("the redirect carries no code")
    return code


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
    reply = await transport.request(
        "POST", f"{api_url}/{TOKEN_ENDPOINT}", what=what, data=params, budget=TOKEN_ENDPOINT
    )
    body = reply.body
    ok = 200 <= reply.status < 300
    try:
        payload = loads(body)
    except ValueError:
        payload = None
    if isinstance(payload, dict) and ok and payload.get("access_token"):
        return TokenReply(payload)
    # An error: OK.ru may echo what was sent (client_secret, code, refresh_token).
    body = scrub(body, secret_values(params, *session._secret_values()))
    try:
        payload = loads(body)
    except ValueError:
        payload = None
    if isinstance(payload, dict) and ("error" in payload or "error_code" in payload):
        error = payload.get("error") or payload.get("error_code")
        text = payload.get("error_description") or payload.get("error_msg") or ""
        hint = "" if "client_secret" in params else _server_variant_hint(session)
        raise AuthError(utf8_text(f"{what} refused: {error}: {text}".rstrip(": ") + hint))
    if not ok:
        raise TransportError(
            f"{what}: HTTP {reply.status} without an OAuth reply",
            method=what,
            status=reply.status,
            body=body,
        )
    if payload is None:
        raise ResponseDecodeError(f"{what}: the reply is not JSON", method=what, body=body)
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
