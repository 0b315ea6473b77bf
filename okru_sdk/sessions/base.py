"""TokenSession: credentials, circuit choice, signing and one API request.

Every session class derives from :class:`TokenSession`. The token sessions
(``TokenSession``, ``ClientSession``, ``ServerSession``) are usable at once;
the grant-flow sessions obtain their token in :meth:`TokenSession.authorize`,
which ``async with`` runs on entry and the first API call runs otherwise.
"""

from __future__ import annotations

import asyncio
import enum
import json
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any, ClassVar

import aiohttp
from typing_extensions import Self

from ..encoding import encode_params
from ..errors import APIError, AuthError, TransportError
from ..signing import Circuit, application_secret, client_secret, server_secret, sign_params
from ..transport import HttpReply, HttpTransport

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_CONNECT_URL",
    "DEFAULT_TIMEOUT",
    "SessionMode",
    "TokenSession",
]

DEFAULT_API_URL = "https://api.ok.ru"
DEFAULT_CONNECT_URL = "https://connect.ok.ru"
#: seconds one HTTP attempt may take
DEFAULT_TIMEOUT = 30.0


class SessionMode(enum.Enum):
    """Whether a method needs, allows or forbids a user session (catalogue term)."""

    REQUIRED = "required"
    OPTIONAL = "optional"
    PROHIBITED = "prohibited"


class TokenSession:
    """A session holding an access token (and the keys to sign with it).

    By default the circuit is inferred from the keys given:

    - ``app_secret_key`` and ``access_token`` non-empty -> server-server;
    - else ``session_secret_key`` non-empty -> client-server;
    - else :class:`~okru_sdk.AuthError` at construction.

    :class:`ServerSession` and :class:`ClientSession` pin the circuit.
    """

    #: a pinned circuit; ``None`` means "infer from the keys"
    pinned_circuit: ClassVar[Circuit | None] = None
    #: grant-flow sessions obtain their token in ``authorize()``
    needs_authorization: ClassVar[bool] = False

    def __init__(
        self,
        app_id: str | int,
        app_key: str,
        app_secret_key: str = "",
        access_token: str = "",
        session_secret_key: str = "",
        *,
        api_url: str = DEFAULT_API_URL,
        connect_url: str = DEFAULT_CONNECT_URL,
        timeout: float = DEFAULT_TIMEOUT,
        http: aiohttp.ClientSession | None = None,
    ) -> None:
        if timeout is None or not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self.app_id = str(app_id)
        self.app_key = app_key
        self._app_secret_key = app_secret_key
        self._access_token = access_token
        self._session_secret_key = session_secret_key
        self._refresh_token = ""
        self.expires_at: float | None = None
        self.api_url = api_url.rstrip("/")
        self.connect_url = connect_url.rstrip("/")
        self._transport = HttpTransport(timeout=float(timeout), http=http)
        self._fb_do = self.api_url + "/fb.do"
        self._signing_secret: str | None = None
        self._authorized = not self.needs_authorization
        self._auth_lock: asyncio.Lock | None = None
        if self._authorized:
            self._signing_secret = self._secret_for(self.circuit)

    # -- token state (readable, never printed) ---------------------------------

    @property
    def access_token(self) -> str:
        return self._access_token

    @property
    def session_secret_key(self) -> str:
        return self._session_secret_key

    @property
    def refresh_token(self) -> str:
        return self._refresh_token

    @property
    def app_secret_key(self) -> str:
        return self._app_secret_key

    @property
    def timeout(self) -> float:
        return self._transport.timeout

    @property
    def authorized(self) -> bool:
        return self._authorized

    def _set_tokens(
        self,
        *,
        access_token: str,
        session_secret_key: str = "",
        refresh_token: str = "",
        expires_in: float | None = None,
    ) -> None:
        self._access_token = access_token
        self._session_secret_key = session_secret_key
        if refresh_token:
            self._refresh_token = refresh_token
        self.expires_at = None if expires_in is None else time.time() + expires_in
        self._signing_secret = self._secret_for(self.circuit)

    # -- circuit ---------------------------------------------------------------

    @property
    def circuit(self) -> Circuit:
        """The circuit user-session calls are signed with."""
        pinned = self.pinned_circuit
        if pinned is not None:
            return pinned
        if self._app_secret_key and self._access_token:
            return Circuit.SERVER
        if self._session_secret_key:
            return Circuit.CLIENT
        raise AuthError(
            f"{type(self).__name__}: cannot choose a signature circuit: give app_secret_key "
            "and access_token (server-server) or session_secret_key (client-server)"
        )

    def _secret_for(self, circuit: Circuit) -> str:
        name = type(self).__name__
        if circuit is Circuit.SERVER:
            if not (self._app_secret_key and self._access_token):
                raise AuthError(
                    f"{name}: the server-server circuit needs app_secret_key and access_token"
                )
            return server_secret(self._access_token, self._app_secret_key)
        if circuit is Circuit.CLIENT:
            if not self._session_secret_key:
                raise AuthError(f"{name}: the client-server circuit needs session_secret_key")
            return client_secret(self._session_secret_key)
        if not self._app_secret_key:
            raise AuthError(f"{name}: the session-less circuit needs app_secret_key")
        return application_secret(self._app_secret_key)

    # -- lifecycle ---------------------------------------------------------------

    async def authorize(self) -> None:
        """Obtain the access token (grant-flow sessions); a no-op for token sessions."""
        self._authorized = True

    async def _ensure_authorized(self) -> None:
        if self._authorized:
            return
        if self._auth_lock is None:
            self._auth_lock = asyncio.Lock()
        async with self._auth_lock:
            if not self._authorized:
                await self.authorize()
                self._authorized = True

    async def close(self) -> None:
        """Close the aiohttp session if this SDK session created it."""
        await self._transport.close()

    async def __aenter__(self) -> Self:
        try:
            await self._ensure_authorized()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        try:
            circuit = self.circuit.value
        except AuthError:
            circuit = "not yet known"
        state = "authorized" if self._authorized else "not authorized"
        return (
            f"<{type(self).__name__} app_id={self.app_id!r} circuit={circuit} {state} "
            f"api_url={self.api_url!r}>"
        )

    __str__ = __repr__

    # -- requests ----------------------------------------------------------------

    async def request(
        self,
        method: str,
        params: Mapping[str, Any],
        *,
        mode: SessionMode = SessionMode.OPTIONAL,
        timeout: float | None = None,
    ) -> bytes:
        """Sign and POST one API call to ``fb.do``; return the raw reply body.

        ``params`` are encoded (see :func:`okru_sdk.encoding.encode_params`);
        an OK.ru error body raises the matching :class:`~okru_sdk.APIError`.
        """
        await self._ensure_authorized()
        wire = encode_params(params)
        wire["application_key"] = self.app_key
        wire["format"] = "json"
        wire["method"] = method
        self._sign(method, wire, mode)
        return await self._send(method, wire, timeout)

    async def _send(self, method: str, wire: dict[str, str], timeout: float | None) -> bytes:
        """POST ready (encoded and signed) parameters to ``fb.do``."""
        reply = await self._transport.request(
            "POST", self._fb_do, what=method, data=wire, timeout=timeout
        )
        return check_api_reply(method, reply)

    def _sign(self, method: str, wire: dict[str, str], mode: SessionMode) -> None:
        wire.pop("sig", None)
        wire.pop("access_token", None)
        if mode is SessionMode.PROHIBITED or (
            mode is SessionMode.OPTIONAL and not self._access_token and not self._session_secret_key
        ):
            if not self._app_secret_key:
                raise AuthError(
                    f"{method} is called without a user session and must be signed with the "
                    f"application secret key, which this {type(self).__name__} does not have"
                )
            wire["sig"] = sign_params(wire, application_secret(self._app_secret_key))
            return
        if mode is SessionMode.REQUIRED and not self._access_token:
            raise AuthError(
                f"{method} needs a user session, and this {type(self).__name__} has no access token"
            )
        secret = self._signing_secret
        if secret is None:
            secret = self._signing_secret = self._secret_for(self.circuit)
        wire["sig"] = sign_params(wire, secret)
        if self._access_token:
            wire["access_token"] = self._access_token


def check_api_reply(method: str, reply: HttpReply) -> bytes:
    """Raise for an OK.ru error body or an HTTP error status; return the body."""
    body = reply.body
    if b'"error_code"' in body:
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if isinstance(payload, dict) and "error_code" in payload:
            raise APIError.from_payload(payload, method=method, raw=body)
    if reply.status >= 400:
        raise TransportError(
            f"{method}: HTTP {reply.status} without an OK.ru error body",
            method=method,
            status=reply.status,
            body=body,
        )
    return body
