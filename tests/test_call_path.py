"""The lean path every API call takes (issue 13): what it must still do.

``HttpTransport.api_request`` awaits aiohttp's response instead of entering it
and releases the connection itself, and typed calls decode inside the
session's coroutine (``request(decode=...)``). These tests pin down what that
must not lose: keep-alive connections are reused, a reply refused half-read
takes its connection with it, chunked replies are read whole, and a reply
that does not decode is not sent again.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web

from okru_sdk import API, ReplyTooLarge, ResponseDecodeError, ServerSession

from .servers import answering

USER = {"uid": "575000000001", "first_name": "Ann", "name": "Ann Lee"}


@asynccontextmanager
async def recording(
    replies: list[web.StreamResponse | None], peers: list[int]
) -> AsyncIterator[str]:
    """Answers the n-th request with ``replies[n]`` (``None``: the user, in chunks).

    ``peers`` gets the client port of every request: one port, one connection.
    """

    async def handle(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        peers.append(request.transport.get_extra_info("peername")[1])
        reply = replies[len(peers) - 1] if len(peers) <= len(replies) else None
        if reply is not None:
            return reply
        chunked = web.StreamResponse(headers={"Content-Type": "application/json"})
        chunked.enable_chunked_encoding()
        await chunked.prepare(request)
        text = json.dumps(USER).encode()
        for start in range(0, len(text), 7):
            await chunked.write(text[start : start + 7])
        await chunked.write_eof()
        return chunked

    async with answering(handle, "/fb.do") as url:
        yield url


def user_reply() -> web.Response:
    return web.json_response(USER)


def session(url: str, **settings: object) -> ServerSession:
    return ServerSession("1", "KEY", "APP-SECRET", "TOKEN", api_url=url, **settings)  # type: ignore[arg-type]


async def test_calls_one_after_another_share_one_connection() -> None:
    peers: list[int] = []
    async with (
        recording([user_reply(), user_reply(), None, user_reply()], peers) as url,
        session(url) as s,
    ):
        api = API(s)
        for _ in range(4):  # the third reply is chunked: no Content-Length
            me = await api.users.get_current_user(fields=["uid", "first_name"])
            assert me.uid == USER["uid"] and me.first_name == "Ann"
        assert await api.call("users.getCurrentUser") == USER
    assert len(peers) == 5
    assert len(set(peers)) == 1, f"connections were not reused: {peers}"


async def test_a_reply_refused_half_read_drops_its_connection_only() -> None:
    peers: list[int] = []
    # far more than aiohttp buffers before it waits for a reader: refused unread
    big = web.json_response({"uid": "1", "name": "x" * 8_000_000})
    async with (
        recording([user_reply(), big, user_reply()], peers) as url,
        session(url, max_reply_size=4_096) as s,
    ):
        api = API(s)
        await api.users.get_current_user()
        with pytest.raises(ReplyTooLarge, match=r"users\.getCurrentUser"):
            await api.users.get_current_user()
        me = await api.users.get_current_user()  # a fresh connection serves it
        assert me.name == "Ann Lee"
    assert len(peers) == 3
    assert peers[0] == peers[1] != peers[2]


async def test_a_chunked_reply_past_the_cap_is_refused() -> None:
    peers: list[int] = []
    # every reply chunked, about 70 bytes
    async with recording([], peers) as url, session(url, max_reply_size=32) as s:
        with pytest.raises(ReplyTooLarge, match="once decoded"):
            await API(s).users.get_current_user()


async def test_a_reply_that_does_not_decode_is_not_sent_again() -> None:
    peers: list[int] = []
    wrong = web.json_response({"uid": ["not", "a", "string"]})
    async with (
        recording([wrong, user_reply()], peers) as url,
        session(url) as s,
    ):  # the default policy retries reads
        with pytest.raises(ResponseDecodeError, match=r"users\.getCurrentUser") as info:
            await API(s).users.get_current_user()
    assert len(peers) == 1
    assert b"not" in info.value.body


async def test_request_decodes_with_the_hook_or_returns_bytes() -> None:
    peers: list[int] = []
    async with recording([user_reply(), user_reply()], peers) as url, session(url) as s:
        raw = await s.request("users.getCurrentUser", {})
        decoded = await s.request("users.getCurrentUser", {}, decode=json.loads)
    assert isinstance(raw, bytes) and json.loads(raw) == USER
    assert decoded == USER
