"""pytest fixtures for testing code that uses okru-sdk, against the real emulator.

Enable them in your ``conftest.py``::

    pytest_plugins = ["okru_sdk.testing.pytest_plugin"]

and, with pytest-asyncio (``asyncio_mode = "auto"``), write::

    from okru_sdk.testing import DEMO_UID

    async def test_greeting(okru_api):
        me = await okru_api.users.get_current_user()
        assert me.uid == DEMO_UID

Fixtures (function scope; each test gets a fresh emulator):

- ``okru_emulator``: a started :class:`OkEmulator` on 127.0.0.1, seeded with the
  demo application and user (``emu.seed_demo()`` returns them) and serving every
  catalogued method with its example result;
- ``okru_session``: a :class:`~okru_sdk.ServerSession` for the demo user,
  pointed at the emulator, closed after the test;
- ``okru_api``: ``API(okru_session)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from .. import API, ServerSession
from .catalogue import register_catalogue
from .emulator import OkEmulator

__all__ = ["okru_api", "okru_emulator", "okru_session"]


@pytest_asyncio.fixture
async def okru_emulator() -> AsyncIterator[OkEmulator]:
    async with OkEmulator() as emu:
        emu.seed_demo()
        register_catalogue(emu)
        yield emu


@pytest_asyncio.fixture
async def okru_session(okru_emulator: OkEmulator) -> AsyncIterator[ServerSession]:
    app, user = okru_emulator.seed_demo()  # the same app and user again
    token = okru_emulator.issue_token(app, user, expires_in=None)
    async with ServerSession(
        app.app_id,
        app.app_key,
        app.app_secret_key,
        token.access_token,
        api_url=okru_emulator.url,
        connect_url=okru_emulator.url,
    ) as session:
        yield session


@pytest_asyncio.fixture
async def okru_api(okru_session: ServerSession) -> API:
    return API(okru_session)
