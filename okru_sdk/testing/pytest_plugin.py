"""pytest fixtures for testing code that uses okru-sdk, against the real emulator.

``pip install 'okru-sdk[testing]'`` registers this plugin with pytest (a
``pytest11`` entry point) and brings pytest-asyncio, so with no
``conftest.py`` and no pytest configuration a test can say::

    import pytest
    from okru_sdk.testing import DEMO_UID

    @pytest.mark.asyncio
    async def test_greeting(okru_api):
        me = await okru_api.users.get_current_user()
        assert me.uid == DEMO_UID

(With pytest-asyncio's ``asyncio_mode = "auto"`` the mark can be left out.)
A ``conftest.py`` line ``pytest_plugins = ["okru_sdk.testing.pytest_plugin"]``
from before the entry point keeps working: the plugin is registered once.

Fixtures (function scope; each test gets a fresh emulator):

- ``okru_emulator``: a started :class:`OkEmulator` on 127.0.0.1, seeded with the
  demo application and user (``emu.seed_demo()`` returns them) and serving every
  catalogued method with its example result;
- ``okru_session``: a :class:`~okru_sdk.ServerSession` for the demo user,
  pointed at the emulator, closed after the test;
- ``okru_api``: ``API(okru_session)``.

Without pytest-asyncio installed (okru-sdk without the ``testing`` extra) the
plugin still loads, so it never breaks an unrelated pytest run; using one of
its fixtures then fails with a message saying what to install.
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator
from typing import Any

import pytest

from .. import API, ServerSession
from .emulator import OkEmulator

__all__ = ["okru_api", "okru_emulator", "okru_session"]

_MISSING = (
    "the okru_emulator, okru_session and okru_api fixtures need pytest-asyncio: "
    "pip install 'okru-sdk[testing]'"
)

if importlib.util.find_spec("pytest_asyncio") is not None:
    import pytest_asyncio

    @pytest_asyncio.fixture
    async def okru_emulator() -> AsyncIterator[OkEmulator]:
        async with OkEmulator() as emu:
            emu.seed_demo()
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

else:  # pragma: no cover - depends on the installation

    @pytest.fixture
    def okru_emulator() -> Any:
        pytest.fail(_MISSING, pytrace=False)

    @pytest.fixture
    def okru_session() -> Any:
        pytest.fail(_MISSING, pytrace=False)

    @pytest.fixture
    def okru_api() -> Any:
        pytest.fail(_MISSING, pytrace=False)
