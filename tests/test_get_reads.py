"""Retry-safe calls go as GET; the guarantees hold on that path (issue 13).

A GET puts the token and the signature in the URL, aiohttp repeats an
idempotent request after a dropped keep-alive connection, and URLs have a
length limit. These tests prove: no secret reaches an exception (its text, its
chain or its formatted traceback), writes stay POSTs sent once, and long
queries fall back to POST.
"""

from __future__ import annotations

import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web

from okru_sdk import API, ServerSession, TransportError
from okru_sdk.retry import NO_RETRY
from okru_sdk.sessions.base import MAX_GET_QUERY
from okru_sdk.testing import OkEmulator
from okru_sdk.testing.state import App, User

from .servers import answering

TOKEN = "TOKEN-SECRET-0123456789"
APP_SECRET = "APP-SECRET-9876543210"


def http_methods(emu: OkEmulator, method: str) -> list[str]:
    return [r.http_method for r in emu.requests if r.method == method]


async def session(emu: OkEmulator, app: App, user: User, **settings: object) -> ServerSession:
    tok = emu.issue_token(app, user)
    return ServerSession(
        app.app_id,
        app.app_key,
        app.app_secret_key,
        tok.access_token,
        api_url=emu.url,
        **settings,  # type: ignore[arg-type]
    )


async def test_reads_are_gets_and_writes_are_posts(emu: OkEmulator, app: App, user: User) -> None:
    async with await session(emu, app, user) as s:
        api = API(s)
        me = await api.users.get_current_user(fields=["uid", "first_name"])
        assert me.uid == user.uid
        await api.call("users.getCurrentUser")
        await api.mediatopic.post(type="USER_NOTE", attachment={"media": []})
    assert http_methods(emu, "users.getCurrentUser") == ["GET", "GET"]
    assert http_methods(emu, "mediatopic.post") == ["POST"]


async def test_get_reads_false_posts_everything(emu: OkEmulator, app: App, user: User) -> None:
    async with await session(emu, app, user, get_reads=False) as s:
        await API(s).users.get_current_user()
    assert http_methods(emu, "users.getCurrentUser") == ["POST"]


async def test_a_long_query_falls_back_to_post(emu: OkEmulator, app: App, user: User) -> None:
    uids = [str(575000000000 + i) for i in range(100)]
    fields = ["uid", "first_name", "last_name", "name", "gender", "birthday", "age", "locale"]
    fields += ["pic_1", "pic_2", "pic190x190", "url_profile", "location", "online"]
    fields += ["current_status", "email", "has_email", "last_online", "city_of_birth", "premium"]
    # the ids and fields alone are near the limit; the signed query is past it
    assert len(",".join(uids + fields)) > MAX_GET_QUERY - 100
    async with await session(emu, app, user) as s:
        await API(s).users.get_info(uids=uids, fields=fields)
        await API(s).users.get_info(uids=uids[:3], fields=fields)
    assert http_methods(emu, "users.getInfo") == ["POST", "GET"]


@asynccontextmanager
async def dropping_server(seen: list[str]) -> AsyncIterator[str]:
    """Records each request's method, then drops the connection without a reply."""

    async def drop(request: web.Request) -> web.StreamResponse:
        seen.append(request.method)
        assert request.transport is not None
        request.transport.close()
        return web.Response()

    async with answering(drop, "/fb.do") as url:
        yield url


async def test_a_failed_get_leaks_no_secret_through_its_exception_chain() -> None:
    seen: list[str] = []
    async with (
        dropping_server(seen) as url,
        ServerSession("1", "KEY", APP_SECRET, TOKEN, api_url=url, retry=NO_RETRY) as s,
    ):
        with pytest.raises(TransportError) as info:
            await API(s).users.get_current_user()
    assert seen and seen[0] == "GET"
    err = info.value
    shown = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    assert err.__cause__ is None and err.__suppress_context__
    for text in (str(err), repr(err), shown):
        assert TOKEN not in text
        assert "sig=" not in text
        assert APP_SECRET not in text


async def test_a_write_whose_connection_drops_is_sent_once() -> None:
    seen: list[str] = []
    async with (
        dropping_server(seen) as url,
        ServerSession("1", "KEY", APP_SECRET, TOKEN, api_url=url) as s,
    ):
        with pytest.raises(TransportError):
            await API(s).mediatopic.post(type="USER_NOTE", attachment={"media": []})
    assert seen == ["POST"]
