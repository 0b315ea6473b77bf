"""Refresh-token flow: a new access token from a refresh token."""

from __future__ import annotations

from typing_extensions import Unpack

from ..signing import Circuit
from .base import TokenSession
from .oauth import refresh_access_token
from .settings import SessionSettings

__all__ = ["RefreshClientSession", "RefreshServerSession", "RefreshSession"]


class RefreshSession(TokenSession):
    """Gets an access token at ``token.do`` with ``grant_type=refresh_token``;
    ``client_secret`` is sent when ``app_secret_key`` is given."""

    needs_authorization = True

    def __init__(
        self,
        app_id: str | int,
        app_key: str,
        app_secret_key: str,
        refresh_token: str,
        **settings: Unpack[SessionSettings],
    ) -> None:
        super().__init__(app_id, app_key, app_secret_key, refresh_token=refresh_token, **settings)

    async def authorize(self) -> None:
        await refresh_access_token(self)
        self._authorized = True


class RefreshClientSession(RefreshSession):
    """Refresh without the application secret key; client-server circuit."""

    pinned_circuit = Circuit.CLIENT

    def __init__(
        self,
        app_id: str | int,
        app_key: str,
        refresh_token: str,
        **settings: Unpack[SessionSettings],
    ) -> None:
        super().__init__(app_id, app_key, "", refresh_token, **settings)


class RefreshServerSession(RefreshSession):
    """Refresh with the application secret key; server-server circuit."""

    pinned_circuit = Circuit.SERVER
