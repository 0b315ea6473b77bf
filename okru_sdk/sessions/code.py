"""Authorization code flow: exchange a code from the OAuth redirect for tokens."""

from __future__ import annotations

from typing_extensions import Unpack

from ..signing import Circuit
from .base import TokenSession
from .oauth import adopt_token, request_token
from .settings import SessionSettings

__all__ = ["CodeClientSession", "CodeServerSession", "CodeSession"]


class CodeSession(TokenSession):
    """Exchanges ``code`` at ``token.do``; ``client_secret`` is sent when
    ``app_secret_key`` is given. The circuit is then inferred as for
    :class:`TokenSession`. Holds the refresh token the exchange returns.
    """

    needs_authorization = True

    def __init__(
        self,
        app_id: str | int,
        app_key: str,
        app_secret_key: str,
        code: str,
        redirect_uri: str,
        **settings: Unpack[SessionSettings],
    ) -> None:
        super().__init__(app_id, app_key, app_secret_key, **settings)
        self._code = code
        self.redirect_uri = redirect_uri

    def _secret_values(self) -> tuple[str, ...]:
        return (*super()._secret_values(), self._code)

    async def authorize(self) -> None:
        params = {
            "grant_type": "authorization_code",
            "code": self._code,
            "client_id": self.app_id,
            "redirect_uri": self.redirect_uri,
        }
        token = await request_token(self, params, grant="authorization_code")
        adopt_token(self, token, grant="authorization_code")
        self._authorized = True


class CodeClientSession(CodeSession):
    """Code flow without the application secret key; client-server circuit."""

    pinned_circuit = Circuit.CLIENT

    def __init__(
        self,
        app_id: str | int,
        app_key: str,
        code: str,
        redirect_uri: str,
        **settings: Unpack[SessionSettings],
    ) -> None:
        super().__init__(app_id, app_key, "", code, redirect_uri, **settings)


class CodeServerSession(CodeSession):
    """Code flow with the application secret key; server-server circuit."""

    pinned_circuit = Circuit.SERVER
