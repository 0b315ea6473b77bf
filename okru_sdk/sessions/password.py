"""Password flow: ``auth.login`` with the user's login and password.

OK.ru documents no public password grant; first-party clients sign in with
``auth.login``, which returns a ``session_key`` (used as the access token)
and a ``session_secret_key``. The server variant signs the call with the
application secret key (the session-less circuit); the client variant sends
it unsigned.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from typing_extensions import Unpack

from ..errors import APIError, AuthError, ResponseDecodeError
from ..signing import Circuit, application_secret, sign_params
from .base import TokenSession
from .oauth import join_scope
from .settings import SessionSettings

__all__ = ["PasswordClientSession", "PasswordServerSession", "PasswordSession"]

_LOGIN_METHOD = "auth.login"
_LOGIN_FAILURES = {
    401: "wrong login or password",
    402: "OK.ru asks for a captcha, which this flow cannot answer",
    403: "OK.ru asks for a human check in the browser",
}


class PasswordSession(TokenSession):
    """Signs in with ``auth.login``; signed with ``app_secret_key`` when given."""

    needs_authorization = True

    def __init__(
        self,
        app_id: str | int,
        app_key: str,
        app_secret_key: str,
        login: str,
        passwd: str,
        scope: str | Iterable[str] = "",
        **settings: Unpack[SessionSettings],
    ) -> None:
        super().__init__(app_id, app_key, app_secret_key, **settings)
        self.login = login
        self._passwd = passwd
        #: kept for the spec's signature; ``auth.login`` itself takes no scope
        self.scope = join_scope(scope)
        self.uid: str | None = None

    def _secret_values(self) -> tuple[str, ...]:
        return (*super()._secret_values(), self._passwd)

    async def authorize(self) -> None:
        wire = {
            "application_key": self.app_key,
            "format": "json",
            "method": _LOGIN_METHOD,
            "user_name": self.login,
            "password": self._passwd,
            "gen_token": "true",
        }
        if self.app_secret_key:
            wire["sig"] = sign_params(wire, application_secret(self.app_secret_key))
        try:
            body = await self._send(_LOGIN_METHOD, wire, None)
        except APIError as exc:
            reason = _LOGIN_FAILURES.get(exc.code, f"OK.ru error {exc.code}")
            raise AuthError(f"{_LOGIN_METHOD} failed for {self.login!r}: {reason}") from exc
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise ResponseDecodeError(
                f"{_LOGIN_METHOD}: the reply is not JSON", method=_LOGIN_METHOD, body=body
            ) from exc
        if not isinstance(payload, dict) or not payload.get("session_key"):
            raise AuthError(f"{_LOGIN_METHOD}: the reply carries no session_key")
        if self.pinned_circuit is Circuit.CLIENT and not payload.get("session_secret_key"):
            raise AuthError(f"{_LOGIN_METHOD}: the reply carries no session_secret_key")
        uid = payload.get("uid")
        self.uid = None if uid is None else str(uid)
        self._set_tokens(
            access_token=str(payload["session_key"]),
            session_secret_key=str(payload.get("session_secret_key") or ""),
        )
        self._authorized = True


class PasswordClientSession(PasswordSession):
    """``auth.login`` sent unsigned; calls signed with the session secret key."""

    pinned_circuit = Circuit.CLIENT

    def __init__(
        self,
        app_id: str | int,
        app_key: str,
        login: str,
        passwd: str,
        **settings: Unpack[SessionSettings],
    ) -> None:
        super().__init__(app_id, app_key, "", login, passwd, **settings)


class PasswordServerSession(PasswordSession):
    """``auth.login`` signed with the application secret key; server-server calls."""

    pinned_circuit = Circuit.SERVER
