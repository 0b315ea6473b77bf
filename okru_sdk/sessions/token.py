"""Sessions built from keys the caller already has."""

from __future__ import annotations

from datetime import datetime

from typing_extensions import Unpack

from ..signing import Circuit
from .base import TokenSession
from .settings import SessionSettings

__all__ = ["ClientSession", "ServerSession"]


class ClientSession(TokenSession):
    """Client-server circuit: calls are signed with the session secret key.

    The spec names three positional arguments; the user's ``access_token`` is
    the fourth, since OK.ru needs it on every call made for a user.
    """

    pinned_circuit = Circuit.CLIENT

    def __init__(
        self,
        app_id: str | int,
        app_key: str,
        session_secret_key: str,
        access_token: str = "",
        *,
        refresh_token: str = "",
        expires_at: float | datetime | None = None,
        **settings: Unpack[SessionSettings],
    ) -> None:
        super().__init__(
            app_id,
            app_key,
            access_token=access_token,
            session_secret_key=session_secret_key,
            refresh_token=refresh_token,
            expires_at=expires_at,
            **settings,
        )


class ServerSession(TokenSession):
    """Server-server circuit: calls are signed with md5(access_token + app secret key).

    Built from a stored token with its ``refresh_token=`` (and ``expires_at=``),
    it renews itself at ``token.do`` once ``expires_at`` has passed and when a
    call fails with 102 (session expired).
    """

    pinned_circuit = Circuit.SERVER

    def __init__(
        self,
        app_id: str | int,
        app_key: str,
        app_secret_key: str,
        access_token: str,
        *,
        refresh_token: str = "",
        expires_at: float | datetime | None = None,
        **settings: Unpack[SessionSettings],
    ) -> None:
        super().__init__(
            app_id,
            app_key,
            app_secret_key,
            access_token,
            refresh_token=refresh_token,
            expires_at=expires_at,
            **settings,
        )
