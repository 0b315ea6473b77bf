"""The emulator the contract tests talk to, over a real loopback socket.

One emulator and one session serve a whole module (the generated modules run
on a module-scoped event loop: see ``pytest_collection_modifyitems``), and the
check for unclosed aiohttp resources runs once per module instead of once per
test: its garbage collection pass would otherwise be most of the run time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from pytest_asyncio import is_async_test

from okru_sdk import API, ServerSession
from okru_sdk.testing import OkEmulator
from okru_sdk.testing.catalogue import register_catalogue

from ..conftest import unclosed_aiohttp_reports
from .support import APP_ID, APP_KEY, APP_SECRET, Contract

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the contract tests on their module's event loop, where :func:`contract` lives."""
    marker = pytest.mark.asyncio(loop_scope="module")
    for item in items:
        if item.path.parent == HERE and is_async_test(item):
            item.add_marker(marker, append=False)


@pytest.fixture(autouse=True)
def no_unclosed_aiohttp_sessions() -> None:
    """Replaces the per-test leak check of tests/conftest.py (see :func:`contract`)."""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def contract() -> AsyncIterator[Contract]:
    async with unclosed_aiohttp_reports() as reports, OkEmulator() as emu:
        app = emu.add_app(app_id=APP_ID, app_key=APP_KEY, app_secret_key=APP_SECRET)
        user = emu.add_user(login="contract@example.com", uid="571234567890")
        # the catalogue's example answers, also for methods the emulator implements
        register_catalogue(emu, replace=True)
        token = emu.issue_token(app, user, expires_in=None)
        async with ServerSession(
            app.app_id, app.app_key, app.app_secret_key, token.access_token, api_url=emu.url
        ) as session:
            yield Contract(emu, API(session), token.access_token)
    leaks = [r for r in reports if "Unclosed" in r]
    assert not leaks, f"aiohttp resources left unclosed: {leaks}"
