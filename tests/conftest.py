"""Shared fixtures: a live emulator on 127.0.0.1 and a guard against leaked aiohttp sessions."""

from __future__ import annotations

import asyncio
import gc
import warnings
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from okru_sdk.sessions import SessionSettings
from okru_sdk.testing import OkEmulator
from okru_sdk.testing.state import App, User

APP_ID = "1248"
APP_KEY = "CBAEMULATORKEY"
APP_SECRET = "EMULATOR-APP-SECRET-0123456789"
PUBLIC_APP_ID = "1249"
PUBLIC_APP_KEY = "CBAPUBLICKEY"
PUBLIC_APP_SECRET = "PUBLIC-APP-SECRET-9876543210"
LOGIN = "alice@example.com"
PASSWORD = "correct horse battery staple"
REDIRECT_URI = "https://example.com/callback"


@asynccontextmanager
async def unclosed_aiohttp_reports() -> AsyncIterator[list[str]]:
    """Collect aiohttp's "Unclosed ..." reports made inside the block (after a GC pass).

    aiohttp reports them from ``__del__`` as a ResourceWarning and through the
    event loop's exception handler; both are collected.
    """
    reports: list[str] = []
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        reports.append(str(context.get("message")))

    loop.set_exception_handler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            yield reports
            gc.collect()
        reports.extend(str(w.message) for w in caught if issubclass(w.category, ResourceWarning))
    finally:
        loop.set_exception_handler(previous)


#: every aiohttp.ClientSession made during the run, weakly held
_CREATED: list[weakref.ref[aiohttp.ClientSession]] = []
_original_init = aiohttp.ClientSession.__init__


def _tracking_init(self: aiohttp.ClientSession, *args: Any, **kwargs: Any) -> None:
    _original_init(self, *args, **kwargs)
    _CREATED.append(weakref.ref(self))


aiohttp.ClientSession.__init__ = _tracking_init  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
async def no_unclosed_aiohttp_sessions() -> AsyncIterator[None]:
    """Fail any test that leaves an aiohttp client session unclosed.

    Sessions made during the test must be closed at its end (still alive and
    open is a leak), and any "Unclosed ..." report aiohttp makes meanwhile
    fails the test too. No GC pass is needed, which keeps the suite fast.
    """
    start = len(_CREATED)
    reports: list[str] = []
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, ctx: reports.append(str(ctx.get("message"))))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            yield
        reports.extend(str(w.message) for w in caught if issubclass(w.category, ResourceWarning))
    finally:
        loop.set_exception_handler(previous)
    open_sessions = [
        ref()
        for ref in _CREATED[start:]
        if ref() is not None and not ref().closed  # type: ignore[union-attr]
    ]
    del _CREATED[start:]
    leaks = [r for r in reports if "Unclosed" in r] + [repr(s) for s in open_sessions]
    assert not leaks, f"aiohttp resources left unclosed: {leaks}"


@pytest.fixture
async def emu() -> AsyncIterator[OkEmulator]:
    async with OkEmulator() as emulator:
        yield emulator


@pytest.fixture
def app(emu: OkEmulator) -> App:
    return emu.add_app(app_id=APP_ID, app_key=APP_KEY, app_secret_key=APP_SECRET)


@pytest.fixture
def public_app(emu: OkEmulator) -> App:
    """An application allowed to exchange codes without its secret key."""
    return emu.add_app(
        app_id=PUBLIC_APP_ID,
        app_key=PUBLIC_APP_KEY,
        app_secret_key=PUBLIC_APP_SECRET,
        public_code_exchange=True,
    )


@pytest.fixture
def user(emu: OkEmulator) -> User:
    return emu.add_user(
        login=LOGIN, password=PASSWORD, uid="575662066926", first_name="Alice", last_name="Liddell"
    )


@pytest.fixture
def urls(emu: OkEmulator) -> SessionSettings:
    return {"api_url": emu.url, "connect_url": emu.url}


pytest_plugins = ["okru_sdk.testing.pytest_plugin"]
